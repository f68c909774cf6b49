using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;

using NicScript.Host.Cli;

namespace NicScript.Host.Families.Dpu.Call;

/// <summary><c>nicscript call [--target ADDR] Service.Method '{json}'</c> and <c>nicscript call --list [Service]</c>: a gRPC
/// client in the box for <c>nicscript serve</c>, since grpcurl cannot be assumed.</summary>
/// <remarks>
/// Design: the schema comes from the server (gRPC server reflection), so listing and resolving names work for any
/// server with reflection. Turning JSON into a request and a reply into JSON needs message types: C# protobuf has no
/// dynamic message, and a codec of our own would be a second protobuf implementation to keep right. So a call is made
/// with the message types compiled into nicscript (<c>nicscript.dpu.v1</c>, <see cref="CompiledMessages"/>), after
/// checking that the server declares them exactly as compiled; any other service is listed but not called (one line
/// says so). Requests and replies use the protobuf JSON mapping (Google.Protobuf's JsonParser and JsonFormatter):
/// field names as in the .proto (camelCase accepted), every field printed, zeros included, as the agent sets them.
/// The reply goes to stdout as JSON (nothing else there, so it pipes into jq); the agent's <c>nicscript-status</c> /
/// <c>nicscript-detail</c> trailers go to stderr, and a reply that carries them exits 1.
/// </remarks>
public static class CallCommand
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Build(CliContext cli)
    {
        var method = new Argument<string?>("method")
        {
            Description = "Service.Method (the service by full or short name; Service/Method works too). With --list: a service to show.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var request = new Argument<string?>("request")
        {
            Description = "The request in the protobuf JSON mapping (default {}; - reads it from stdin).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var target = new Option<string?>("--target") { Description = $"The server's IP:PORT (default {DpuStateCommands.DefaultAgent})." };
        var list = new Option<bool>("--list") { Description = "List the services and their methods; with a service, its methods' signatures." };
        var cmd = new Command("call", """
            Call a unary rpc of a gRPC server with server reflection (nicscript serve, run --dpu-listen) and print the reply
            as JSON; the agent's nicscript-status / nicscript-detail trailers go to stderr and make the exit code 1.

            Examples:
              nicscript call --list
              nicscript call --list ElasticNicService
              nicscript call ElasticNicService.NewPort '{"uuid":"web","mtu":9000,"max_qpair":4}'
              nicscript call nicscript.dpu.v1.PortStatsService.GetPortStats '{"vid":0}'   # after NewPort: vport 0's counters
              nicscript call --list --target 127.0.0.1:50052
            """)
        { method, request, target, list };
        cmd.SetAction(async (p, cancel) => await Run(cli, p.GetValue(method), p.GetValue(request), p.GetValue(target), p.GetValue(list), cancel).ConfigureAwait(false));
        return cmd;
    }

    private static async Task<int> Run(CliContext cli, string? name, string? requestJson, string? target, bool list, CancellationToken cancel)
    {
        string address = target ?? DpuStateCommands.DefaultAgent;
        System.Net.IPEndPoint endpoint = ListenAddress.Parse("--target", address, anyPort: false);
        if (!list && name is null) throw new UserErrorException("call: expected Service.Method (see nicscript call --list)");
        if (list && requestJson is not null) throw new UserErrorException($"call --list: unexpected '{requestJson}' (--list takes at most a service)");
        using GrpcChannel channel = GrpcChannel.ForAddress($"http://{endpoint}");
        CallInvoker invoker = channel.CreateCallInvoker();
        ServerSchema schema;
        try
        {
            schema = await ServerSchema.ReadAsync(invoker, cancel).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            throw new UserErrorException($"call: the server at {address} does not offer gRPC server reflection (grpc.reflection.v1)");
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw new UserErrorException($"call: cannot read the services of {address}: {CodeName(e.StatusCode)}: {e.Status.Detail}");
        }

        if (list)
        {
            if (name is null)
                foreach (ServiceDescriptor s in schema.Services)
                    cli.OutputText.WriteLine($"{s.FullName}: {string.Join(' ', s.Methods.Select(m => m.Name))}");
            else
            {
                ServiceDescriptor s = FindService(schema, name);
                cli.OutputText.WriteLine(s.FullName);
                foreach (MethodDescriptor m in s.Methods) cli.OutputText.WriteLine($"  {Signature(m)}");
            }
            return 0;
        }

        MethodDescriptor method = FindMethod(schema, name!);
        string full = $"{method.Service.FullName}.{method.Name}";
        if (method.IsClientStreaming || method.IsServerStreaming)
            throw new UserErrorException($"call: {full} is a streaming rpc; call makes unary calls only ({Signature(method)})");
        MessageDescriptor input = CompiledMessages.Find(method.InputType, schema, full);
        MessageDescriptor output = CompiledMessages.Find(method.OutputType, schema, full);
        IMessage request = ParseRequest(requestJson == "-" ? cli.Input.ReadToEnd() : requestJson ?? "{}", input);

        var rpc = new Method<IMessage, IMessage>(MethodType.Unary, method.Service.FullName, method.Name,
            Marshallers.Create<IMessage>(m => m.ToByteArray(), input.Parser.ParseFrom),
            Marshallers.Create<IMessage>(m => m.ToByteArray(), output.Parser.ParseFrom));
        using AsyncUnaryCall<IMessage> call = invoker.AsyncUnaryCall(rpc, null, new CallOptions(cancellationToken: cancel), request);
        IMessage reply;
        try
        {
            reply = await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !cancel.IsCancellationRequested)
        {
            string trailers = string.Join("; ", Agents(e.Trailers).Select(t => $"{t.Key}: {t.Value}"));
            throw new UserErrorException($"call: {full}: {CodeName(e.StatusCode)}: {e.Status.Detail}{(trailers.Length == 0 ? "" : $" ({trailers})")}");
        }
        var formatter = new JsonFormatter(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));
        cli.OutputText.WriteLine(JsonNode.Parse(formatter.Format(reply))!.ToJsonString(Pretty)); // the mapping's text, re-spaced with relaxed escaping
        List<Metadata.Entry> refusal = Agents(call.GetTrailers());
        foreach (Metadata.Entry t in refusal) cli.Error.WriteLine($"{t.Key}: {t.Value}");
        return refusal.Count == 0 ? 0 : 1;
    }

    /// <summary>The agent's own trailers (<c>nicscript-*</c>), in the order sent.</summary>
    private static List<Metadata.Entry> Agents(Metadata trailers) =>
        [.. trailers.Where(t => !t.IsBinary && t.Key.StartsWith("nicscript-", StringComparison.Ordinal))];

    /// <summary>The request: JSON syntax first (System.Text.Json knows line and column), then the mapping onto
    /// <paramref name="input"/> (unknown fields, wrong types and enum names are refused by name).</summary>
    private static IMessage ParseRequest(string json, MessageDescriptor input)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new UserErrorException($"call: request JSON: expected an object {{…}} ({input.FullName}), not {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}");
        }
        catch (JsonException e)
        {
            string why = e.Message.Split(" LineNumber:", 2)[0].TrimEnd();
            throw new UserErrorException($"call: request JSON: line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}: {why}");
        }
        try
        {
            return JsonParser.Default.Parse(json, input);
        }
        catch (Exception e) when (IsMappingError(e))
        {
            throw new UserErrorException($"call: request for {input.FullName}{Locate(json, input)}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private static bool IsMappingError(Exception e) => e is InvalidProtocolBufferException or InvalidJsonException or FormatException or OverflowException;

    /// <summary><c>, line L, column C (field F)</c> for the first top-level field the mapping refuses on its own; empty when
    /// none does alone. Google.Protobuf's parser says what is wrong but not where; the field is tried by itself to find it.</summary>
    private static string Locate(string json, MessageDescriptor input)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(utf8);
        reader.Read(); // the object's start: checked before
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int at = (int)reader.TokenStartIndex;
            string field = reader.GetString()!;
            reader.Read();
            int valueStart = (int)reader.TokenStartIndex;
            reader.Skip();
            int valueEnd = (int)reader.BytesConsumed;
            string alone = "{" + JsonSerializer.Serialize(field) + ":" + Encoding.UTF8.GetString(utf8, valueStart, valueEnd - valueStart) + "}";
            try
            {
                JsonParser.Default.Parse(alone, input);
            }
            catch (Exception e) when (IsMappingError(e))
            {
                int lineStart = Array.LastIndexOf(utf8, (byte)'\n', Math.Max(at - 1, 0)) + 1;
                int line = 1 + utf8.AsSpan(0, at).Count((byte)'\n');
                return $", line {line}, column {at - lineStart + 1} (field {field})";
            }
        }
        return "";
    }

    private static ServiceDescriptor FindService(ServerSchema schema, string name)
    {
        ServiceDescriptor[] found = [.. schema.Services.Where(s => s.FullName == name || s.Name == name)];
        if (found.Length == 1) return found[0];
        if (found.Length > 1) throw new UserErrorException($"call: '{name}' is ambiguous: {string.Join(", ", found.Select(s => s.FullName))}");
        // A short name is compared with short names, a dotted one with full names; the suggestion is always the full name.
        string suggestion = Suggest(name, schema.Services.Select(s => (name.Contains('.') ? s.FullName : s.Name, s.FullName)));
        throw new UserErrorException($"call: no service '{name}'; {suggestion}");
    }

    private static MethodDescriptor FindMethod(ServerSchema schema, string name)
    {
        int cut = name.Contains('/') ? name.LastIndexOf('/') : name.LastIndexOf('.');
        if (cut <= 0 || cut == name.Length - 1) throw new UserErrorException($"call: '{name}' is not Service.Method (see nicscript call --list)");
        ServiceDescriptor service = FindService(schema, name[..cut]);
        string methodName = name[(cut + 1)..];
        return service.FindMethodByName(methodName)
            ?? throw new UserErrorException($"call: {service.FullName} has no method '{methodName}'; {Suggest(methodName, service.Methods.Select(m => (m.Name, m.Name)))}");
    }

    private static string Signature(MethodDescriptor m) =>
        $"rpc {m.Name}({(m.IsClientStreaming ? "stream " : "")}{m.InputType.FullName}) returns ({(m.IsServerStreaming ? "stream " : "")}{m.OutputType.FullName})";

    /// <summary>"did you mean …" with the names whose key is closest to <paramref name="wrong"/> (edit distance, case
    /// ignored, or containing it), or every name when none is close.</summary>
    private static string Suggest(string wrong, IEnumerable<(string Key, string Shown)> names)
    {
        var all = names.ToList();
        string[] close = [.. all
            .Select(c => (c.Shown, c.Key, Distance: Distance(wrong.ToLowerInvariant(), c.Key.ToLowerInvariant())))
            .Where(c => c.Distance <= Math.Max(2, wrong.Length / 3) || c.Key.Contains(wrong, StringComparison.OrdinalIgnoreCase))
            .OrderBy(c => c.Distance).ThenBy(c => c.Shown, StringComparer.Ordinal).Select(c => c.Shown).Distinct(StringComparer.Ordinal).Take(3)];
        return close.Length > 0 ? $"did you mean {string.Join(" or ", close)}?" : $"there are {string.Join(", ", all.Select(c => c.Shown).Distinct(StringComparer.Ordinal))}";
    }

    /// <summary>Levenshtein distance (insert, delete, substitute: 1 each).</summary>
    private static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) row[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    /// <summary>A gRPC status code as the protocol spells it (<c>INVALID_ARGUMENT</c>).</summary>
    private static string CodeName(StatusCode code)
    {
        if (code == StatusCode.OK) return "OK";
        var sb = new StringBuilder();
        foreach (char c in code.ToString())
        {
            if (char.IsUpper(c) && sb.Length > 0) sb.Append('_');
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }
}
