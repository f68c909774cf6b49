using NicScript.Host.Capabilities;
using NicScript.Host.Families.VirtioBlk;

namespace NicScript.Host.Scripting;

// The VirtioBlk family's script global (DeviceFamilies): a real property, so C# scripts bind to it as to the core ones.
public sealed partial class VNodeGlobals
{
    private BlkHandle? _blk;

    [ScriptApi] public BlkHandle Blk => _blk ??= _handles.Family<BlkHandle>();
}
