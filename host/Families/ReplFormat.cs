namespace NicScript.Host.Families;

/// <summary>How the REPL shows a value of <paramref name="Type"/> (or a subtype) instead of its generic rendering.</summary>
public sealed record ReplFormat(Type Type, Func<object, string> Format)
{
    /// <summary>A format for values of type <typeparamref name="T"/>.</summary>
    public static ReplFormat Of<T>(Func<T, string> format) where T : class => new(typeof(T), v => format((T)v));
}
