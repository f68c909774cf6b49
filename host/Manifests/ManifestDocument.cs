using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>A loaded manifest file: a V-Node (<c>vnode:</c>) or a system of several (<c>system:</c>).</summary>
public abstract record ManifestDocument(string Path, ImmutableArray<ManifestProblem> Warnings);
