using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Reflection.V1;


namespace NicScript.Host.Families.Dpu.Call;

/// <summary>The services a gRPC server describes through server reflection (<c>grpc.reflection.v1</c>), as protobuf
/// descriptors: what <c>nicscript call</c> lists and resolves <c>Service.Method</c> against.</summary>
/// <remarks>Design: one reflection stream per command: list the services, ask for the file that declares each, then for
/// every file those import that has not come yet; the files are built into descriptors in dependency order. The raw
/// <see cref="FileDescriptorProto"/>s are kept so a compiled-in message can be compared with what the server declares.</remarks>
internal sealed class ServerSchema
{
    private readonly Dictionary<string, FileDescriptorProto> _files;

    private ServerSchema(IReadOnlyList<ServiceDescriptor> services, Dictionary<string, FileDescriptorProto> files)
    {
        Services = services;
        _files = files;
    }

    /// <summary>The services the server lists, in its order (reflection itself included).</summary>
    public IReadOnlyList<ServiceDescriptor> Services { get; }

    /// <summary>The file as the server declared it.</summary>
    public FileDescriptorProto File(string name) => _files[name];

    /// <exception cref="RpcException">The server is unreachable or has no reflection service.</exception>
    /// <exception cref="UserErrorException">What the server sent does not build into descriptors.</exception>
    public static async Task<ServerSchema> ReadAsync(CallInvoker invoker, CancellationToken cancel)
    {
        var client = new ServerReflection.ServerReflectionClient(invoker);
        using AsyncDuplexStreamingCall<ServerReflectionRequest, ServerReflectionResponse> stream = client.ServerReflectionInfo(cancellationToken: cancel);
        async Task<ServerReflectionResponse> Ask(ServerReflectionRequest request)
        {
            await stream.RequestStream.WriteAsync(request, cancel).ConfigureAwait(false);
            if (!await stream.ResponseStream.MoveNext(cancel).ConfigureAwait(false))
                throw new UserErrorException("call: the server ended the reflection stream without an answer");
            return stream.ResponseStream.Current;
        }

        ServerReflectionResponse listed = await Ask(new ServerReflectionRequest { ListServices = "" }).ConfigureAwait(false);
        List<string> names = [.. listed.ListServicesResponse?.Service.Select(s => s.Name) ?? []];
        var files = new Dictionary<string, (ByteString Bytes, FileDescriptorProto Proto)>(StringComparer.Ordinal);
        void Take(ServerReflectionResponse response)
        {
            if (response.FileDescriptorResponse is null) return; // an error response: the symbol's service stays unlisted
            foreach (ByteString bytes in response.FileDescriptorResponse.FileDescriptorProto)
            {
                FileDescriptorProto proto = FileDescriptorProto.Parser.ParseFrom(bytes);
                files.TryAdd(proto.Name, (bytes, proto));
            }
        }
        foreach (string name in names)
            if (!files.Values.Any(f => f.Proto.Service.Any(s => Qualified(f.Proto.Package, s.Name) == name)))
                Take(await Ask(new ServerReflectionRequest { FileContainingSymbol = name }).ConfigureAwait(false));
        for (string? missing = Missing(files); missing is not null; missing = Missing(files))
        {
            ServerReflectionResponse r = await Ask(new ServerReflectionRequest { FileByFilename = missing }).ConfigureAwait(false);
            if (r.ErrorResponse is { } error) throw new UserErrorException($"call: the server does not describe {missing}: {error.ErrorMessage}");
            Take(r);
        }
        await stream.RequestStream.CompleteAsync().ConfigureAwait(false);

        IReadOnlyList<FileDescriptor> built;
        try
        {
            built = FileDescriptor.BuildFromByteStrings(InDependencyOrder(files));
        }
        catch (Exception e) when (e is DescriptorValidationException or ArgumentException or InvalidProtocolBufferException)
        {
            throw new UserErrorException($"call: the server's descriptors do not build: {e.Message}");
        }
        Dictionary<string, ServiceDescriptor> services = built.SelectMany(f => f.Services).ToDictionary(s => s.FullName, StringComparer.Ordinal);
        return new ServerSchema([.. names.Where(services.ContainsKey).Select(n => services[n])], files.ToDictionary(f => f.Key, f => f.Value.Proto, StringComparer.Ordinal));
    }

    private static string Qualified(string package, string name) => package.Length == 0 ? name : package + "." + name;

    private static string? Missing(Dictionary<string, (ByteString Bytes, FileDescriptorProto Proto)> files) =>
        files.Values.SelectMany(f => f.Proto.Dependency).FirstOrDefault(d => !files.ContainsKey(d));

    /// <summary>The files' bytes, each after the files it imports (BuildFromByteStrings resolves imports only backwards).</summary>
    private static List<ByteString> InDependencyOrder(Dictionary<string, (ByteString Bytes, FileDescriptorProto Proto)> files)
    {
        var ordered = new List<ByteString>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        void Visit(string name)
        {
            if (done.Contains(name) || !files.TryGetValue(name, out var file)) return;
            if (!visiting.Add(name)) throw new UserErrorException($"call: the server's file {name} imports itself (through other files)");
            foreach (string dep in file.Proto.Dependency) Visit(dep);
            visiting.Remove(name);
            done.Add(name);
            ordered.Add(file.Bytes);
        }
        foreach (string name in files.Keys.Order(StringComparer.Ordinal)) Visit(name);
        return ordered;
    }
}
