namespace NicScript.Host.Manifests;

/// <summary>The language of an entrypoint, by its extension: <c>.js</c> or <c>.csx</c>.</summary>
public enum ScriptLanguage
{
    JavaScript,
    CSharp,
}
