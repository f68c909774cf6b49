using System.Reflection;
using System.Text.RegularExpressions;
using NicScript.Driver.Memory;
using NicScript.Driver.Tests.Architecture;

namespace NicScript.Driver.Tests;

/// <summary>The driver core knows nothing of the host, scripts, YAML, logging or consoles (DESIGN §2), and its namespaces
/// keep their layers (<see cref="DriverRules"/>, judged on every name the compiled driver uses, method bodies included).</summary>
public sealed class ArchitectureTests
{
    private static readonly string[] Forbidden =
        ["nicscript", "NicScript.Host", "Jint", "Acornima", "Microsoft.CodeAnalysis", "YamlDotNet", "Serilog", "Spectre.Console", "System.CommandLine"];

    [Fact]
    public void DriverAssembly_ReferencesNoHostOrHostLibrary()
    {
        Assembly driver = typeof(DmaMemory).Assembly;
        string[] refs = driver.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.DoesNotContain(refs, r => Forbidden.Any(f => r.Equals(f, StringComparison.OrdinalIgnoreCase) || r.StartsWith(f + ".", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public void DriverSources_ImportNoHostNamespaceOrPackage()
    {
        string driverDir = Path.Combine(RepoRoot(), "driver");
        var offenders = new List<string>();
        var usingPattern = new Regex(@"^\s*using\s+(static\s+)?(?<ns>[\w.]+)", RegexOptions.Multiline);
        foreach (string file in Directory.EnumerateFiles(driverDir, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")))
            foreach (Match m in usingPattern.Matches(File.ReadAllText(file)))
                if (Forbidden.Any(f => m.Groups["ns"].Value.StartsWith(f, StringComparison.Ordinal)))
                    offenders.Add($"{Path.GetRelativePath(driverDir, file)}: using {m.Groups["ns"].Value}");
        string csproj = File.ReadAllText(Path.Combine(driverDir, "NicScript.Driver.csproj"));
        foreach (string f in Forbidden.Skip(2)) // packages; the host itself is the ProjectReference check below
            if (csproj.Contains($"Include=\"{f}", StringComparison.OrdinalIgnoreCase)) offenders.Add($"NicScript.Driver.csproj references {f}");
        if (Regex.IsMatch(csproj, @"ProjectReference[^>]*host", RegexOptions.IgnoreCase)) offenders.Add("NicScript.Driver.csproj references the host project");
        Assert.Empty(offenders);
    }

    private static IReadOnlyList<string> DriverViolations() =>
        DriverRules.Check(AssemblyDependencies.Read(typeof(DmaMemory).Assembly.Location, DriverRules.Root));

    [Fact]
    public void DriverTypes_NameOnlyLowerLayersAndNoScriptEngineShapeOrCapability()
    {
        IReadOnlyList<string> violations = DriverViolations();
        Assert.True(violations.Count == 0,
            $"{violations.Count} driver dependencies break the architecture (Type -> Type (rule)):\n" + string.Join("\n", violations));
    }

    /// <summary>Every public driver type is named by the host, is script surface, or is shown by one that is
    /// (<see cref="PublicSurface"/>); the rest are internal (issue 19 item 5). The host is built before these tests
    /// (a build-only ProjectReference); its sources count only for the constants compiled into it.</summary>
    [Fact]
    public void PublicDriverTypes_AreNamedByTheHostOrScriptSurface()
    {
        string driver = typeof(DmaMemory).Assembly.Location;
        string config = typeof(ArchitectureTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        string framework = Path.GetFileName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        string host = Path.Combine(RepoRoot(), "host", "bin", config, framework, "nicscript.dll");
        string sources = string.Join("\n", Directory.EnumerateFiles(Path.Combine(RepoRoot(), "host"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")).Select(File.ReadAllText));
        IReadOnlyList<string> unneeded = PublicSurface.Unneeded(driver, DriverRules.Root, PublicSurface.NamedBy(host, "NicScript.Driver"), sources);
        Assert.True(unneeded.Count == 0,
            $"{unneeded.Count} public driver types are named by neither the host nor a script: make them internal\n" + string.Join("\n", unneeded));
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NicScript.sln"))) return dir.FullName;
        throw new InvalidOperationException("NicScript.sln not found above " + AppContext.BaseDirectory);
    }
}
