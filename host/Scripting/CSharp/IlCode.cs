using System.Collections.Frozen;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>A method body's IL for <see cref="ScriptAssemblyVerifier"/>: decoded into instructions, with the control flow its checks ask about.</summary>
/// <remarks>
/// Design: decoding knows every opcode of <see cref="OpCodes"/> and nothing else; an unknown opcode throws
/// <see cref="BadImageFormatException"/>, which refuses the whole assembly. Operands are kept raw (tokens, constants,
/// absolute branch targets); deciding what they may name is the verifier's.
/// </remarks>
internal static class IlCode
{
    internal static readonly FrozenDictionary<ushort, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!)
        .ToFrozenDictionary(o => (ushort)o.Value, o => o.OperandType);

    internal readonly record struct Instruction(int Offset, ushort OpCode, long Operand, int Next);

    internal static List<Instruction> Decode(BlobReader il)
    {
        var list = new List<Instruction>();
        while (il.RemainingBytes > 0)
        {
            int offset = il.Offset;
            ushort op = il.ReadByte();
            if (op == 0xFE) op = (ushort)(0xFE00 | il.ReadByte());
            if (!Operands.TryGetValue(op, out OperandType operand)) throw new BadImageFormatException($"unknown IL opcode 0x{op:x} at IL_{offset:x4}");
            long value = operand switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget => il.ReadSByte() + (il.Offset),
                OperandType.ShortInlineI => il.ReadSByte(),
                OperandType.ShortInlineVar => il.ReadByte(),
                OperandType.InlineBrTarget => il.ReadInt32() + (il.Offset),
                OperandType.InlineI => il.ReadInt32(),
                OperandType.InlineI8 => il.ReadInt64(),
                OperandType.ShortInlineR => (long)il.ReadSingle(),
                OperandType.InlineR => (long)il.ReadDouble(),
                OperandType.InlineVar => il.ReadUInt16(),
                OperandType.InlineSwitch => SkipSwitch(ref il),
                _ => il.ReadInt32(), // tokens and strings
            };
            list.Add(new Instruction(offset, op, value, il.Offset));
        }
        return list;
    }

    private static long SkipSwitch(ref BlobReader il)
    {
        int n = il.ReadInt32();
        for (int i = 0; i < n; i++) il.ReadInt32();
        return n;
    }

    /// <summary><c>newobj</c>, or <c>call .ctor</c> on a local's address (how Roslyn initialises a span local in place).</summary>
    internal static bool IsConstruct(Instruction ins) => ins.OpCode is (ushort)ILOpCode.Newobj or (ushort)ILOpCode.Call;

    internal static long? Constant(Instruction ins) => (ILOpCode)ins.OpCode switch
    {
        >= ILOpCode.Ldc_i4_m1 and <= ILOpCode.Ldc_i4_8 => ins.OpCode - (int)ILOpCode.Ldc_i4_0,
        ILOpCode.Ldc_i4_s or ILOpCode.Ldc_i4 => ins.Operand,
        _ => null,
    };

    /// <summary>Whether instruction <paramref name="at"/> can run again before its method returns (a loop, a goto back, a handler).</summary>
    internal static bool InLoop(List<Instruction> code, MethodBodyBlock body, int at)
    {
        var index = new Dictionary<int, int>();
        for (int i = 0; i < code.Count; i++) index[code[i].Offset] = i;
        var seen = new HashSet<int>();
        var work = new Stack<int>(Successors(code, body, at, index));
        while (work.Count > 0)
        {
            int i = work.Pop();
            if (i == at) return true;
            if (!seen.Add(i)) continue;
            foreach (int s in Successors(code, body, i, index)) work.Push(s);
        }
        return false;
    }

    private static IEnumerable<int> Successors(List<Instruction> code, MethodBodyBlock body, int i, Dictionary<int, int> index)
    {
        Instruction ins = code[i];
        var op = (ILOpCode)ins.OpCode;
        OperandType kind = Operands[ins.OpCode];
        if (kind is OperandType.ShortInlineBrTarget or OperandType.InlineBrTarget && index.TryGetValue((int)ins.Operand, out int target)) yield return target;
        foreach (ExceptionRegion r in body.ExceptionRegions) // conservatively: anything in a protected block may reach its handlers
        {
            if (ins.Offset >= r.TryOffset && ins.Offset < r.TryOffset + r.TryLength && index.TryGetValue(r.HandlerOffset, out int h)) yield return h;
            if (r.Kind == ExceptionRegionKind.Filter && ins.Offset >= r.TryOffset && ins.Offset < r.TryOffset + r.TryLength && index.TryGetValue(r.FilterOffset, out int fl)) yield return fl;
        }
        if (op is ILOpCode.Switch) // targets follow the opcode: re-read them
            foreach (int t in SwitchTargets(code, i, body)) if (index.TryGetValue(t, out int st)) yield return st;
        if (op is ILOpCode.Br or ILOpCode.Br_s or ILOpCode.Leave or ILOpCode.Leave_s or ILOpCode.Ret or ILOpCode.Throw or ILOpCode.Rethrow or ILOpCode.Endfinally or ILOpCode.Endfilter) yield break;
        if (i + 1 < code.Count) yield return i + 1;
    }

    private static IEnumerable<int> SwitchTargets(List<Instruction> code, int i, MethodBodyBlock body)
    {
        BlobReader il = body.GetILReader();
        il.Offset = code[i].Offset + 1;
        int n = il.ReadInt32();
        int[] rel = new int[n];
        for (int k = 0; k < n; k++) rel[k] = il.ReadInt32();
        return rel.Select(r => code[i].Next + r);
    }
}
