namespace NicScript.Host.Families;

/// <summary>The fields a JavaScript <c>Error</c> carries for a family's exception (its status name, code…), so a script can branch on them.</summary>
public sealed record ScriptErrorFields(Type Type, Func<Exception, (string Name, object Value)[]> Fields)
{
    /// <summary>The fields of an exception of type <typeparamref name="T"/> (or a subtype).</summary>
    public static ScriptErrorFields Of<T>(Func<T, (string Name, object Value)[]> fields) where T : Exception => new(typeof(T), e => fields((T)e));
}
