namespace NicScript.Host.Tests;

/// <summary>The one reader of users' files: regular files only (after links), within a limit, never blocking or growing.</summary>
public sealed class InputFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Refusal(string path, int max = InputFile.MaxScriptBytes)
    {
        // Bounded: a reader that blocked on a FIFO or read a device forever fails here instead of hanging the suite.
        Task<string> read = Task.Run(() => Assert.Throws<InputFileException>(() => InputFile.ReadText(path, max, "scripts")).Message);
        Assert.True(read.Wait(TimeSpan.FromSeconds(30)), $"reading {path} did not end");
        return read.Result;
    }

    [Theory]
    [InlineData("/dev/zero", "character device")]
    [InlineData("/dev/urandom", "character device")]
    [InlineData("/dev/null", "character device")]
    public void Device_IsRefusedWithoutReading(string device, string kind)
    {
        string message = Refusal(device);
        Assert.StartsWith(device + ": not a regular file", message);
        Assert.Contains(kind, message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void Fifo_IsRefusedWithoutWaitingForAWriter()
    {
        string fifo = _dir.File("pipe.csx");
        NicscriptProcess.MakeFifo(fifo);
        Assert.Equal($"{fifo}: not a regular file (a FIFO); only regular files are read", Refusal(fifo));
    }

    [Fact]
    public void SymlinkToDevice_IsRefusedAsTheDevice()
    {
        string link = _dir.File("main.csx");
        File.CreateSymbolicLink(link, "/dev/zero");
        Assert.Contains("character device", Refusal(link));
        string chain = _dir.File("chain.csx");
        File.CreateSymbolicLink(chain, link);
        Assert.Contains("character device", Refusal(chain));
    }

    [Fact]
    public void Folder_SymlinkLoop_Missing_AreOneLineEach()
    {
        Assert.Equal($"{_dir.Path}: is a folder, not a file", Refusal(_dir.Path));
        File.CreateSymbolicLink(_dir.File("a.csx"), _dir.File("b.csx"));
        File.CreateSymbolicLink(_dir.File("b.csx"), _dir.File("a.csx"));
        Assert.Contains("too many levels of symbolic links", Refusal(_dir.File("a.csx")));
        Assert.Equal($"{_dir.File("none.csx")}: file not found", Refusal(_dir.File("none.csx")));
        File.CreateSymbolicLink(_dir.File("dangling.csx"), _dir.File("gone.csx"));
        Assert.EndsWith("file not found", Refusal(_dir.File("dangling.csx")));
    }

    [Fact]
    public void SizeLimit_AtTheLimitReads_OneByteMoreIsRefused()
    {
        const int max = 4096;
        string at = _dir.Write("at.js", new string('x', max));
        string over = _dir.Write("over.js", new string('x', max + 1));
        Assert.Equal(max, InputFile.ReadText(at, max, "scripts").Length);
        Assert.Equal($"{over}: larger than 4096 bytes, the limit for scripts", Refusal(over, max));
        Assert.EndsWith("larger than 4 MiB, the limit for YAML files",
            Assert.Throws<InputFileException>(() => InputFile.ReadText(_dir.Write("big.yml", new string('#', InputFile.MaxYamlBytes + 1)), InputFile.MaxYamlBytes, "YAML files")).Message);
    }

    [Fact]
    public void ProcFile_ThatReportsSizeZero_IsReadToItsEnd()
    {
        // /proc files are regular files whose stat size is 0: the reader reads until the end, not until the size.
        string status = InputFile.ReadText("/proc/self/status", InputFile.MaxScriptBytes, "scripts");
        Assert.Contains("Name:", status);
    }

    [Fact]
    public void Read_GivesTheRealPathThroughLinks()
    {
        string real = _dir.Write("real/lib.csx", "// lib");
        string link = _dir.File("link.csx");
        File.CreateSymbolicLink(link, real);
        InputFile.Contents c = InputFile.Read(link, 1024, "scripts");
        Assert.Equal("// lib", c.Text);
        Assert.Equal(new FileInfo(real).FullName, c.RealPath.Replace(InputFile.RealFolder(_dir.Path)!, new DirectoryInfo(_dir.Path).FullName));
    }

    [Fact]
    public void Utf8ByteOrderMark_IsNotPartOfTheText()
    {
        string path = _dir.File("bom.js");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, (byte)'1']);
        Assert.Equal("1", InputFile.ReadText(path, 16, "scripts"));
    }
}
