namespace NicScript.Host.Families.Dpu.Declarative;

/// <summary>One rpc of an apply, in its §9.3 phase.</summary>
internal sealed record PlanStep(int Phase, int Order, string Rpc, string What, Func<DpuClient, ApplyContext, Task<(uint Status, string Detail)>> Run);
