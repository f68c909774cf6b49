namespace NicScript.Host.Tests;

/// <summary>The repository checkout the tests run from, for the example manifests and scripts.</summary>
internal static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NicScript.sln"))) return dir.FullName;
        throw new InvalidOperationException("NicScript.sln not found above " + AppContext.BaseDirectory);
    }
}
