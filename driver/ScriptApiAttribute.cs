namespace NicScript.Driver;

/// <summary>Marks a member that scripts may reach, in both engines: host handles and driver objects alike.</summary>
/// <remarks>
/// The allow-list of the object model: Jint's member filter shows only members carrying it, and the C# sandbox
/// refuses any NicScript member without it, so the two languages see exactly the same surface. It lives in the
/// driver so that driver objects handed to scripts (the netdevice layer) carry it too.
/// </remarks>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Constructor, Inherited = true)]
public sealed class ScriptApiAttribute : Attribute;
