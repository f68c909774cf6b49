using System.Reflection;
using System.Text.Json;
using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using NicScript.Host.Families.Rdma;

namespace NicScript.Host.Tests.Scripting.JavaScript;

/// <summary>
/// Issue 17 Deliverable 1, JavaScript half: nothing reachable from a script exposes more than its <c>[ScriptApi]</c>
/// surface. Each attack is a script; each must fail closed (undefined, or a TypeError the script sees).
/// </summary>
public sealed class JavaScriptHostSurfaceTests
{
    private static string Eval(string code)
    {
        VNodeReport r = ScriptRun.Single("t.js", code, "  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE\n  - CAP_MEM_SHARE\n  - NetworkAccess");
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        return r.Result?.ToString() ?? "";
    }

    private static HashSet<string> ScriptApiNames(Type type) =>
        type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.IsDefined(typeof(ScriptApiAttribute), inherit: true))
            .Select(m => m.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void EveryGlobalAndABuffer_ListsOnlyScriptApiMembers()
    {
        string json = Eval("""
            const names = {};
            for (const g of ['vnode','pci','irq','dma','share','ipc','log','metrics','net','gdma','rdma','dpu'])
              names[g] = Reflect.ownKeys(globalThis[g]).map(String);
            names['buffer'] = Reflect.ownKeys(dma.alloc(16)).map(String);
            JSON.stringify(names)
            """);
        var types = typeof(VNodeGlobals).GetProperties().Where(p => p.IsDefined(typeof(ScriptApiAttribute)))
            .ToDictionary(p => p.Name.ToLowerInvariant(), p => p.PropertyType);
        types["buffer"] = typeof(DmaBuffer);
        using JsonDocument doc = JsonDocument.Parse(json);
        foreach (JsonProperty g in doc.RootElement.EnumerateObject())
        {
            HashSet<string> allowed = ScriptApiNames(types[g.Name]);
            Assert.NotEmpty(allowed);
            foreach (JsonElement name in g.Value.EnumerateArray())
                Assert.True(allowed.Contains(name.GetString()!), $"{g.Name}.{name.GetString()} is visible but not [ScriptApi]");
        }
    }

    [Theory]
    [InlineData("typeof pci.GetType + typeof pci.getType + typeof dma.alloc(8).GetType + typeof dma.alloc(8).getType", "undefinedundefinedundefinedundefined")]
    [InlineData("typeof log.ToString + typeof log.Equals + typeof log.GetHashCode + typeof log.MemberwiseClone", "undefinedundefinedundefinedundefined")]
    [InlineData("const f = dma.alloc(8).readU8; [f.Method, f.method, f.Target, f.target, f.GetType, f.DynamicInvoke].map(x => typeof x).join()", "undefined,undefined,undefined,undefined,undefined,undefined")]
    [InlineData("Object.getPrototypeOf(pci) === Object.prototype && Object.getPrototypeOf(dma.alloc(8)) === Object.prototype", "True")]
    [InlineData("let p = pci, n = 0; while (p) { p = p.__proto__; n++; } n", "2")]
    [InlineData("Object.getOwnPropertySymbols(pci).length + Object.getOwnPropertySymbols(dma.alloc(8)).length", "0")]
    [InlineData("typeof Symbol.for('System') + typeof globalThis[Symbol.for('clr')]", "symbolundefined")]
    [InlineData("['System','importNamespace','clrHelper','require','host','Host','process','Type','Enum','Assembly'].map(n => typeof globalThis[n]).join()", "undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined")]
    [InlineData("const r = dma.alloc(8).read(0, 4); Array.isArray(r) && typeof r.GetType === 'undefined' && typeof r.Add === 'undefined'", "True")]
    [InlineData("const g = vnode.grants; g[0] = 'x'; g.push('y'); vnode.grants[0] !== 'x' && vnode.grants.length === g.length - 1", "True")]
    [InlineData("const b = dma.alloc(4); const r = b.read(0, 4); r[0] = 9; b.readU8(0)", "0")]
    [InlineData("dma.alloc(8).foo = 1; typeof dma.alloc(8).foo", "undefined")]
    public void Attack_FailsClosed(string code, string expected) => Assert.Equal(expected, Eval(code));

    [Theory]
    [InlineData("", "ignored")]                // sloppy code: the assignment does nothing
    [InlineData("'use strict';", "TypeError")] // strict code: Jint's read-only TypeError
    public void Assignment_OfAnythingButASettableScriptApiProperty_ChangesNothing(string mode, string outcome)
    {
        string tries = string.Join(" + ' ' + ", new[]
        {
            "attempt(() => { e.reason = 'fine'; })",            // a record a call returns (init-only properties)
            "attempt(() => { rdma.RDMA_WC_SUCCESS = 7; })",     // a handle's get-only property
            "attempt(() => { dma.alloc = 1; })",                // a handle's method
        });
        string r = Eval(mode + $$"""
            function attempt(f) { try { f(); return 'ignored'; } catch (x) { return x.name; } }
            rdma.rdma_query_gid(); // denied without CAP_RDMA: the last error is a record
            const e = rdma.rdma_last_error();
            [{{tries}}, e.reason, rdma.RDMA_WC_SUCCESS, typeof dma.alloc].join()
            """);
        Assert.Equal($"{outcome} {outcome} {outcome},capability-denied,0,function", r);
    }

    [Fact]
    public void Assignment_OfASettableScriptApiProperty_ReachesTheObject_OfAnyType()
    {
        // RdmaWc, not the DPU handle: any type's public, non-init [ScriptApi] setter is assignable, as in C#
        string r = Eval("""
            const [a, b] = rdma.rdma_wc_array(2);
            a.status = 5; a.byte_len = 64; a.wr_id = 7;
            [a.status, a.byteLen, a.wrId, b.status].join()
            """);
        Assert.Equal("5,64,7,0", r);
    }

    [Theory]
    [InlineData("wc.status = 'x'", "TypeError: status: value must be a number, got x")]
    [InlineData("wc.status = 1.5", "TypeError: status: value = 1.5 is not a whole number in -2147483648..2147483647")]
    [InlineData("wc.status = null", "TypeError: status: value is null, where a value is needed")]
    public void Assignment_OfTheWrongType_IsATypeError_AndKeepsTheValue(string assignment, string error) =>
        Assert.Equal(error + " 0", Eval($"const wc = rdma.rdma_wc_array(1)[0]; let seen = 'assigned'; try {{ {assignment}; }} catch (e) {{ seen = `${{e.name}}: ${{e.message}}`; }} `${{seen}} ${{wc.status}}`"));

    [Theory]
    [InlineData("pci.constructor.constructor('return 1')()")]
    [InlineData("dma.alloc(8).readU8.constructor('return this')()")]
    [InlineData("Reflect.construct(Function, ['return 1'])")]
    [InlineData("(async function () {}).constructor('return 1')")]
    [InlineData("(function* () {}).constructor('return 1')")]
    [InlineData("new (Object.getPrototypeOf(async function* () {}).constructor)('return 1')")]
    public void CodeFromStrings_IsATypeError(string code) =>
        Assert.StartsWith("TypeError", Eval($"let seen = 'ran'; try {{ {code}; }} catch (e) {{ seen = e.name; }} seen"));

    [Fact]
    public void MethodsOfOneBuffer_NeverReachAnother()
    {
        // a guard is bound per object: another buffer's method, called detached or on a plain object, still reaches its own buffer
        string r = Eval("const a = dma.alloc(4), b = dma.alloc(4); a.writeU8(0, 1); b.writeU8(0, 2); const f = b.readU8; [f(0), f.call({}, 0), a.readU8.call(b, 0)].join()");
        Assert.Equal("2,2,2", r);
    }
}
