using Google.Protobuf;
using Google.Protobuf.Reflection;
using NicScript.Dpu.V1;


namespace NicScript.Host.Families.Dpu.Call;

/// <summary>The protobuf message types compiled into nicscript that <c>nicscript call</c> can build and read: those of
/// <c>host/Dpu/dpu.proto</c> (package <c>nicscript.dpu.v1</c>).</summary>
/// <remarks>Design: a server's reflection names a message; the compiled type of that name is used only when the server's
/// file declaring it is exactly the compiled file (same fields, numbers, types and options), so an agent of another
/// version is refused with one line instead of being sent bytes it reads differently.</remarks>
internal static class CompiledMessages
{
    private static readonly TypeRegistry Registry = TypeRegistry.FromFiles(DpuReflection.Descriptor);

    /// <summary>The compiled type for the server's <paramref name="declared"/> message of rpc <paramref name="rpc"/>.</summary>
    /// <exception cref="UserErrorException">Not compiled in, or the server declares it otherwise.</exception>
    public static MessageDescriptor Find(MessageDescriptor declared, ServerSchema schema, string rpc)
    {
        MessageDescriptor? compiled = Registry.Find(declared.FullName);
        if (compiled?.Parser is null)
            throw new UserErrorException($"call: {rpc} takes or returns {declared.FullName}, which this nicscript cannot encode: call builds messages of "
                + $"{DpuReflection.Descriptor.Package} only (C# protobuf has no dynamic messages); use grpcurl or a client generated from the server's .proto");
        FileDescriptorProto mine = FileDescriptorProto.Parser.ParseFrom(compiled.File.SerializedData);
        if (!mine.Equals(schema.File(declared.File.Name)))
            throw new UserErrorException($"call: the server's {declared.File.Name} differs from the one built into this nicscript ({declared.FullName}); "
                + "call the server with the nicscript of its version");
        return compiled;
    }
}
