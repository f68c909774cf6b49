namespace NicScript.Host.Families.Dpu.Declarative;

/// <summary>One line of a plan: <c>+</c> create, <c>~</c> change, <c>-/+</c> replace, <c>-</c> destroy.</summary>
internal sealed record PlanChange(string Op, string Kind, string Key, string Text, IReadOnlyList<PlanStep> Steps);
