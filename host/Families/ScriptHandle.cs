using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families;

/// <summary>A script global a family adds: its <c>VNodeGlobals</c> property, the capability its calls check, how the broker makes it.</summary>
/// <param name="Global">The <c>VNodeGlobals</c> property (PascalCase; JavaScript sees it camelCased).</param>
/// <param name="Type">The handle's type.</param>
/// <param name="Needs">The capability the handle's calls check (each call, not its making), or null when it needs none.</param>
/// <param name="Make">Makes the handle for one V-Node.</param>
public sealed record ScriptHandle(string Global, Type Type, CapabilityKind? Needs, Func<VNodeContext, Machine, CapabilityBroker, object> Make)
{
    /// <summary>A handle of type <typeparamref name="T"/>.</summary>
    public static ScriptHandle Of<T>(string global, CapabilityKind? needs, Func<VNodeContext, Machine, CapabilityBroker, T> make) where T : class =>
        new(global, typeof(T), needs, make);
}
