using NicScript.Host.Capabilities;
using NicScript.Host.Families.Mana;

namespace NicScript.Host.Scripting;

// The Mana family's script global (DeviceFamilies): a real property, so C# scripts bind to it as to the core ones.
public sealed partial class VNodeGlobals
{
    private GdmaHandle? _gdma;

    [ScriptApi] public GdmaHandle Gdma => _gdma ??= _handles.Family<GdmaHandle>();
}
