namespace NicScript.Driver;

/// <summary>Marks a driver member that scripts may reach directly (the netdevice objects), in both engines.</summary>
/// <remarks>
/// The host's own <c>ScriptApiAttribute</c> marks host handles; the C# sandbox matches the attribute by name and
/// Jint's member filter accepts either, so driver objects handed to scripts show exactly these members.
/// </remarks>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Field, Inherited = true)]
public sealed class ScriptApiAttribute : Attribute;
