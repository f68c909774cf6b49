namespace NicScript.Driver.Tests.Architecture;

/// <summary>What a <see cref="Dependency"/> points at: a type, a member the type declares, or a string literal in its IL.</summary>
public enum DependencyKind
{
    /// <summary>A type named in a signature, an attribute, a local or an IL token.</summary>
    Type,

    /// <summary>The name of a member or parameter the type declares (a type's own name is its first member).</summary>
    Member,

    /// <summary>A string the type's IL loads (<c>ldstr</c>).</summary>
    Literal,
}
