namespace NicScript.Host.Manifests;

/// <summary>The manifest's <c>runtime</c> section.</summary>
/// <param name="Entrypoint">As written in the manifest.</param>
/// <param name="EntrypointPath">Resolved against the manifest's folder.</param>
public sealed record RuntimeSpec(string Entrypoint, string EntrypointPath, ScriptLanguage Language, int RequiredMemMb, double MaxCpuShare);
