using System.Reflection;
using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Scripting.CSharp;

public sealed class BudgetInjectorTests
{
    /// <summary>Every construct the injector rewrites, in one script that must still compile and compute the same value.</summary>
    private const string Constructs = """
        class Counter
        {
            private int _n;
            public Counter(int n) => _n = n;
            public int N => _n;
            public int this[int i] => _n + i;
            public int Twice { get => _n * 2; set => _n = value / 2; }
            public static Counter operator +(Counter a, Counter b) => new(a.N + b.N);
            public static implicit operator int(Counter c) => c.N;
            public void Bump() => _n++;
            public int Fail() => throw new InvalidOperationException("never");
        }
        int Sum(IEnumerable<int> xs) { var s = 0; foreach (var x in xs) s += x; return s; }
        async System.Threading.Tasks.Task<int> Later(int x) => await System.Threading.Tasks.Task.FromResult(x);
        var c = new Counter(3) + new Counter(4);
        c.Bump();
        int total = c;
        total += c[1] + c.Twice;
        for (int i = 0; i < 3; i++) total++;
        int j = 0; while (j < 2) j++; do j++; while (j < 4);
        total += j;
        Func<int, int> sq = x => x * x;
        Func<int, int> cube = delegate (int x) { return x * x * x; };
        Action noop = () => { };
        noop();
        total += sq(2) + cube(2) + Sum(new[] { 1, 2 });
        switch (total % 3) { case 0: total += 1; break; default: total += 2; break; }
        var k = 0;
        loop: k++;
        if (k < 3) goto loop;
        total + k + await Later(1)
        """;

    [Fact]
    public void Instrumented_ManyConstructs_CompileAndComputeTheSame()
    {
        // 8 (3+4+1) + 9 (c[1]) + 16 (Twice) + 3 (for) + 4 (j) + 4 + 8 + 3 = 55; 55 % 3 = 1 -> +2 = 57; + k 3 + 1 = 61
        var r = ScriptRun.Single("constructs.csx", Constructs);
        Assert.Equal(NicScript.Host.Runtime.VNodeStatus.Completed, r.Status);
        Assert.Equal(61, r.Result);
    }

    [Fact]
    public void Instrumented_RuntimeErrorLine_IsTheUsersLine()
    {
        var r = ScriptRun.Single("lines.csx", "int F(int x) => x > 1 ? throw new InvalidOperationException(\"too big\") : x;\nfor (int i = 0; i < 2; i++) { F(i); }\nvar a = new List<int>();\nF(5);\n");
        Assert.Contains("lines.csx:1:", r.Error);
        Assert.Contains("InvalidOperationException: too big", r.Error);
    }
}
