using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NicScript.Driver.Memory;

/// <summary>The one copy of a frame on the data path, for the sizes that dominate it.</summary>
/// <remarks>Frames of 32 to 64 bytes (every minimum-size Ethernet frame) move as two overlapping 32-byte vectors inline,
/// without the call and size dispatch of a general memmove; anything else goes to the runtime's. Source and destination
/// never overlap here: a frame is copied from one DMA buffer into another.</remarks>
internal static unsafe class FrameCopy
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(byte* destination, byte* source, int length)
    {
        if (Vector256.IsHardwareAccelerated && (uint)(length - 32) <= 32)
        {
            Vector256<byte> head = Vector256.Load(source), tail = Vector256.Load(source + length - 32);
            head.Store(destination);
            tail.Store(destination + length - 32);
            return;
        }
        Buffer.MemoryCopy(source, destination, length, length);
    }
}
