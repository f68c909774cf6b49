using NicScript.Host.Capabilities;
using NicScript.Host.Families.Dpu;

namespace NicScript.Host.Scripting;

// The Dpu family's script global (DeviceFamilies): a real property, so C# scripts bind to it as to the core ones.
public sealed partial class VNodeGlobals
{
    private DpuHandle? _dpu;

    [ScriptApi] public DpuHandle Dpu => _dpu ??= _handles.Family<DpuHandle>();
}
