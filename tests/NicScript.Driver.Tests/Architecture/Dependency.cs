namespace NicScript.Driver.Tests.Architecture;

/// <summary>One name a driver type uses: <paramref name="From"/> (a top-level driver type, its nested and compiler-made
/// types folded into it) names <paramref name="To"/> — a type's full name (generic arguments spelled out, as in
/// <c>System.Collections.Generic.IDictionary&lt;System.String,System.Object&gt;</c>), or for <see cref="DependencyKind.Member"/>
/// and <see cref="DependencyKind.Literal"/> a member's name or a string the IL loads.</summary>
public sealed record Dependency(string From, string To, DependencyKind Kind = DependencyKind.Type);
