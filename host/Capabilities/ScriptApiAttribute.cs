namespace NicScript.Host.Capabilities;

/// <summary>Marks a member that scripts may reach, in both engines.</summary>
/// <remarks>
/// The allow-list of the object model: Jint's member filter shows only members carrying it, and the C# sandbox
/// refuses any NicScript member without it, so the two languages see exactly the same surface.
/// </remarks>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Field, Inherited = true)]
public sealed class ScriptApiAttribute : Attribute;
