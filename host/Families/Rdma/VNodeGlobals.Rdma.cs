using NicScript.Host.Capabilities;
using NicScript.Host.Families.Rdma;

namespace NicScript.Host.Scripting;

// The Rdma family's script global (DeviceFamilies): a real property, so C# scripts bind to it as to the core ones.
public sealed partial class VNodeGlobals
{
    private RdmaHandle? _rdma;

    [ScriptApi] public RdmaHandle Rdma => _rdma ??= _handles.Family<RdmaHandle>();
}
