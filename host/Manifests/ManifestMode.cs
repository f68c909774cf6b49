namespace NicScript.Host.Manifests;

/// <summary>How a manifest treats what it does not know: <c>strict</c> refuses it, <c>permissive</c> warns.</summary>
public enum ManifestMode
{
    Strict,
    Permissive,
}
