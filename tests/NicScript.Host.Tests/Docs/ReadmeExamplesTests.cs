namespace NicScript.Host.Tests.Docs;

/// <summary>Every shell example of README.md runs against the built CLI and prints what the README shows: a change that
/// makes the README false fails here, naming the example's line and showing the difference.</summary>
/// <remarks>
/// Design: one theory case per example, named by its README line and first command; the marker syntax
/// (<c>&lt;!-- doctest: … --&gt;</c>) is described at the top of README.md and in <see cref="DoctestMarkers"/>. Examples
/// that need root (TAP devices, network namespaces) are a separate theory, so a root user can leave them out with a
/// filter; elsewhere they skip with the marker's reason.
/// </remarks>
[Collection(NonParallel.Name)]
public sealed class ReadmeExamplesTests
{
    private static IReadOnlyList<ShellExample> Examples() =>
        MarkdownExamples.Parse(File.ReadAllText(Path.Combine(Repo.Root, "README.md")), "README.md");

    public static TheoryData<int, string> UserExamples() => Data(e => e.Markers.Root is null);

    public static TheoryData<int, string> RootExamples() => Data(e => e.Markers.Root is not null);

    private static TheoryData<int, string> Data(Func<ShellExample, bool> which)
    {
        var data = new TheoryData<int, string>();
        foreach (ShellExample e in Examples().Where(which)) data.Add(e.Line, e.Title);
        return data;
    }

    [SkippableTheory, MemberData(nameof(UserExamples))]
    public void Example(int line, string command) => RunAt(line, command);

    [SkippableTheory, MemberData(nameof(RootExamples))]
    public void RootExample(int line, string command)
    {
        ShellExample e = Examples().Single(x => x.Line == line);
        Skip.IfNot(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root", $"needs root: {e.Markers.Root}");
        RunAt(line, command);
    }

    private static void RunAt(int line, string command)
    {
        ShellExample? example = Examples().SingleOrDefault(x => x.Line == line);
        Assert.True(example is not null, $"README.md:{line}: no example here any more ({command}): the test list is stale");
        Skip.If(example.Markers.Skip is not null, $"README.md:{line}: {example.Markers.Skip}");
        foreach (string tool in example.Markers.Needs)
            Skip.If(EndToEnd.NetNamespace.Which(tool) is null, $"README.md:{line}: needs {tool}, which is not installed");
        using TempDir dir = ExampleRunner.MakeWorkDir();
        ExampleRunner.Verify(example, ExampleRunner.Run(example, dir.Path, TimeSpan.FromMinutes(3)));
    }

    /// <summary>The harness finds the README's examples (a parser that found none would pass everything).</summary>
    [Fact]
    public void TheReadme_HasExamples_AndEveryOneIsRunOrSkippedWithAReason()
    {
        IReadOnlyList<ShellExample> all = Examples();
        Assert.True(all.Count >= 15, $"only {all.Count} examples found");
        Assert.Contains(all, e => e.Steps.Any(s => s.Command.Contains("machine show", StringComparison.Ordinal) && s.Expected.Count > 0));
        Assert.All(all, e => Assert.True(e.Markers.Skip is null || e.Markers.Skip.Length > 5, $"README.md:{e.Line}: a skip needs a reason"));
    }
}
