using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Scripting.JavaScript;

/// <summary>
/// Issue 17 class E (and C at conversions): a CLR exception inside a host call reaches the script as a JS error it can
/// catch — TypeError for a wrong type, RangeError for a value out of range, Error otherwise — and uncaught it is the
/// script's one-line failure at file:line:col, never an internal error.
/// </summary>
public sealed class JavaScriptHostErrorTests
{
    private const string Dpu = "  - CAP_DPU_ADMIN\n  - CAP_LOG_WRITE";

    /// <summary>What the script's own catch sees: <c>name|message</c>.</summary>
    private static string Caught(string call, string capabilities = "  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE", int memMb = 16)
    {
        VNodeReport r = ScriptRun.Single("t.js", $"const b = dma.alloc(64);\nlet seen = 'no error';\ntry {{ {call}; }} catch (e) {{ seen = e.name + '|' + e.message; }}\nseen", capabilities, memMb: memMb);
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        return (string)r.Result!;
    }

    [Theory]
    [InlineData("b.writeU8(0, 300)", "RangeError")]
    [InlineData("b.writeU8(0, -1)", "RangeError")]
    [InlineData("b.writeU16(0, 70000)", "RangeError")]
    [InlineData("b.writeU8(1e10, 1)", "TypeError")]      // no overload takes it
    [InlineData("b.writeU8('x', 1)", "TypeError")]
    [InlineData("b.writeU8()", "TypeError")]             // wrong argument count
    [InlineData("b.writeU8(0)", "TypeError")]
    [InlineData("b.read({}, [])", "TypeError")]
    [InlineData("b.readU8(9999)", "Error")]              // the handle's own range check (a ScriptCallException)
    [InlineData("dma.alloc(-5)", "Error")]
    [InlineData("b.readU8.call(log, 0)", "TypeError")]   // a method on a foreign receiver
    [InlineData("share.revoke(null)", "TypeError")]      // null where the handle needs a buffer: refused at the door
    [InlineData("share.transfer(undefined, 'peer')", "TypeError")]
    public void HostCallFailure_IsCaughtAsJsError(string call, string name)
    {
        string seen = Caught(call);
        Assert.StartsWith(name + "|", seen);
        Assert.DoesNotContain("\n", seen);
        Assert.True(seen.Length > name.Length + 5, seen);     // a message, not an empty one
    }

    [Fact]
    public void Overflow_NamesTheCall() =>
        Assert.Equal("RangeError|writeU8: a number is out of range for this call", Caught("b.writeU8(0, 300)"));

    [Theory]
    [InlineData("b.writeU8(0, 300)")]
    [InlineData("b.writeU8()")]
    [InlineData("dma.alloc(-5)")]
    [InlineData("const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw 1; } }); throw e")]
    [InlineData("throw Symbol('s')")]
    [InlineData("throw { valueOf() { throw 1; }, toString() { throw 2; } }")]
    [InlineData("throw new Proxy({}, { get() { throw 3; }, getOwnPropertyDescriptor() { throw 4; } })")]
    [InlineData("const e = new TypeError('m'); Object.defineProperty(e, 'name', { get() { while (true) {} } }); throw e")]
    [InlineData("throw Object.create(null)")]
    [InlineData("require('fs')")]
    public void Uncaught_IsOneLineAtFileLineColumn(string code)
    {
        VNodeReport r = ScriptRun.Single("t.js", "log.info('start');\nconst b = dma.alloc(64);\n" + code + "\n");
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Matches(@"t\.js:3:\d+: \S", Path.GetFileName(r.Error!));
        Assert.DoesNotContain("\n", r.Error);
        Assert.DoesNotContain("internal error", r.Error);
    }

    [Fact]
    public void ThrowingMessageGetter_IsNeverRun()
    {
        VNodeReport r = ScriptRun.Single("t.js", "const e = new RangeError('x');\nObject.defineProperty(e, 'message', { get() { log.info('RAN'); throw 1; } });\nthrow e\n");
        Assert.EndsWith(": RangeError (its message could not be read)", r.Error);
    }

    [Fact]
    public void DynamicImport_Rejection_SaysModulesAreNotAvailable()
    {
        VNodeReport r = ScriptRun.Single("t.js", "import('x').catch(e => vnode.fail(e.name + '|' + e.message));\n");
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("TypeError|import('x'): modules are not available", r.Error);
    }

    [Fact]
    public void StaticImport_IsASyntaxErrorAtItsLine()
    {
        var e = Assert.Throws<NicScript.Host.Scripting.ScriptCheckException>(() => ScriptRun.Run("m.js", "log.info('a');\nimport x from 'y';\n"));
        Assert.Contains("m.js:2:1: ", e.Message);
        Assert.DoesNotContain("\n", e.Message.Trim());
    }

    [Theory]
    [InlineData(30, "Error|dpu.NewPort")]          // converted, then refused by the message parser: the handle's own error
    [InlineData(100, "RangeError|a value passed to a host call nests more than 64 levels deep")]
    [InlineData(100000, "RangeError|a value passed to a host call nests more than 64 levels deep")]
    public void NestedDpuRequest_IsACatchableError(int depth, string expected)
    {
        string seen = Caught($"let q = {{ uuid: 'p' }}; for (let i = 0; i < {depth}; i++) q = {{ uuid: 'p', inner: q }}; dpu.newPort(q)", Dpu + "\n  - CAP_DMA_ALLOC", memMb: 64);
        Assert.StartsWith(expected, seen);
    }

    [Theory]
    [InlineData("b.write(0, new Array(1e8))")]                         // sparse: 100M elements, no memory behind them yet
    [InlineData("log.info(new Array(5e7))")]
    [InlineData("let a = [1]; for (let i = 0; i < 40; i++) a = [a, a]; log.info(a)")]   // shared twice per level: 2^40 when copied
    public void HugeArgument_FailsOnTheBudgetBeforeItIsConverted(string call)
    {
        long before = GC.GetTotalAllocatedBytes(precise: false);
        VNodeReport r = ScriptRun.Single("t.js", $"const b = dma.alloc(64);\n{call};\n", memMb: 16);
        long allocated = GC.GetTotalAllocatedBytes(precise: false) - before;
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.True(r.Error!.Contains("memory budget exceeded") || r.Error.Contains("RangeError"), r.Error);
        Assert.True(allocated < 400L * 1024 * 1024, $"{allocated / (1024 * 1024)} MB allocated for a 16 MiB budget");
    }

    [Fact]
    public void ArgumentWithGetter_IsReadOnceAndConvertedAsPlainData()
    {
        VNodeReport r = ScriptRun.Single("t.js", "let reads = 0;\nconst b = dma.alloc(8);\nconst arg = [1, 2];\nObject.defineProperty(arg, 0, { get() { reads++; return 7; } });\nb.write(0, arg);\nreads + ':' + b.readU8(0) + ',' + b.readU8(1)");
        Assert.Equal("1:7,2", r.Result);
    }

    [Fact]
    public void DeepLastValue_CompletesAndShowsANote()
    {
        VNodeReport r = ScriptRun.Single("t.js", "let a = []; for (let i = 0; i < 100000; i++) a = [a]; a", memMb: 256);
        Assert.Equal(VNodeStatus.Completed, r.Status);
        Assert.Contains("too deep", (string)r.Result!);
    }
    /// <summary>Every method of every global and of a DMA buffer, with wrong counts and types (nulls, NaN, 1e300, objects, symbols, handles).</summary>
    [Fact]
    public void EveryHandleMethod_WithWrongArguments_ThrowsOnlyCatchableErrors()
    {
        RunReport report = ScriptRun.Run("fuzz.js", """
            const bad = [], counts = { error: 0, ok: 0 };
            const argsets = [[], [undefined], [null], ['x'], [1e300], [-1], [NaN], [{}], [[]], [1, 2, 3, 4, 5, 6, 7, 8], ['x', 'y', 'z'], [0, 300], [Symbol('s')], [() => 1], [dma], [{ a: { b: [1, 2] } }], [0, null], [null, null, null]];
            const targets = { vnode, pci, irq, dma, share, ipc, log, metrics, net, gdma, rdma, dpu, buffer: dma.alloc(64) };
            function fuzz(gname, g) {
              for (const key of Reflect.ownKeys(g)) {
                const name = String(key);
                if (/^fail$/i.test(name)) continue;
                let member;
                try { member = g[name]; } catch (e) { if (!(e instanceof Error)) bad.push(gname + '.' + name + ' get threw ' + String(e)); continue; }
                if (typeof member !== 'function') continue;
                for (const args of argsets)
                  try { member.apply(g, args); counts.ok++; } catch (e) { if (e instanceof Error && e.message.length > 0) counts.error++; else bad.push(gname + '.' + name + '(' + args.length + ') threw ' + String(e)); }
              }
            }
            for (const [gname, g] of Object.entries(targets)) vnode.after(1, () => fuzz(gname, g));
            vnode.after(50, () => vnode.fail('FUZZ ' + JSON.stringify({ counts, bad: bad.slice(0, 20) })));
            """, "  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE\n  - CAP_MEM_SHARE\n  - NetworkAccess", share: 1);
        VNodeReport r = report.VNodes.Single();
        string error = r.Error ?? "(no failure: the final handler did not run)";
        string json = error[(error.IndexOf("FUZZ ", StringComparison.Ordinal) + 5)..];
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(0, doc.RootElement.GetProperty("bad").GetArrayLength());
        Assert.True(doc.RootElement.GetProperty("counts").GetProperty("error").GetInt32() > 1000, json);
    }
}
