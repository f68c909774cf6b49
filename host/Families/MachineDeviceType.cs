using NicScript.Driver;
using NicScript.Driver.Wire;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families;

/// <summary>One <c>type:</c> of a machine file's device: the keys it takes and how it is placed on a machine.</summary>
/// <param name="Name">The machine file's spelling (<c>virtio-net</c>).</param>
/// <param name="Keys">The device keys the type accepts; <see cref="MachineFileParser"/> checks each one it knows the same way for every type.</param>
/// <param name="Required">The keys the type cannot do without.</param>
/// <param name="Place">Puts the validated device on the machine, plugged into its wire; a refusal throws
/// <see cref="ArgumentException"/> or <see cref="InvalidOperationException"/> (reported at the device's line).</param>
/// <param name="Functions">How many PCI functions the device takes, at consecutive routing IDs from its address (a MANA PF and its VF 0: 2).</param>
public sealed record MachineDeviceType(string Name, string[] Keys, string[] Required, Action<Machine, DeviceSpec, Link> Place, int Functions = 1);
