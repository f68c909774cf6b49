using System.Buffers.Binary;
using System.Collections.Frozen;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Http;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>
/// Answers a request to one of the agent's rpcs whose body is not its request message (not protobuf, truncated, nested past
/// protobuf's recursion limit, more than one message) with gRPC <c>INVALID_ARGUMENT</c> and the <c>nicscript-status</c> /
/// <c>nicscript-detail</c> trailers, as the agent answers its other refusals, instead of <c>UNKNOWN</c> "Exception was thrown by handler".
/// </summary>
/// <remarks>
/// Design: Grpc.AspNetCore deserialises the request before any interceptor runs and turns the parser's exception into
/// <c>UNKNOWN</c>, so the check sits in front of it, as middleware on the agent's routes only: it buffers the body (one unary
/// message, at most <see cref="MaxBody"/> bytes), parses it with the method's own parser, and on success hands the same bytes
/// on. What it does not understand (a compressed frame, a body past the limit, another route) it leaves to gRPC unchanged.
/// The cost is one extra parse of a small message per rpc, beside an SQLite commit per change.
/// </remarks>
internal sealed class MalformedRequestGuard(RequestDelegate next)
{
    /// <summary>gRPC's default largest message (4 MiB) plus its 5-byte frame header.</summary>
    public const int MaxBody = 4 * 1024 * 1024 + 5;

    private static readonly FrozenDictionary<string, (string Name, MessageParser Parser)> Requests =
        DpuReflection.Descriptor.Services.SelectMany(s => s.Methods)
            .ToFrozenDictionary(m => $"/{m.Service.FullName}/{m.Name}", m => (m.InputType.Name, m.InputType.Parser), StringComparer.Ordinal);

    /// <summary>Builds the method table and runs the check once, before the agent says it listens: the first rpc after a
    /// (re)start pays no extra start-up for the guard.</summary>
    public static void Warm()
    {
        foreach (var request in Requests.Values) _ = Problem([0, 0, 0, 0, 0], request);
    }

    public async Task InvokeAsync(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method) || !Requests.TryGetValue(http.Request.Path.Value ?? "", out var request) ||
            http.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) != true ||
            http.Request.ContentLength is > MaxBody)
        {
            await next(http).ConfigureAwait(false);
            return;
        }
        var body = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted).ConfigureAwait(false)) > 0)
        {
            body.Write(chunk, 0, read);
            if (body.Length > MaxBody) break; // gRPC says RESOURCE_EXHAUSTED for it: hand the rest on unread
        }
        if (body.Length <= MaxBody && Problem(body.GetBuffer().AsSpan(0, (int)body.Length), request) is { } problem)
        {
            await RefuseAsync(http, problem).ConfigureAwait(false);
            return;
        }
        body.Position = 0;
        http.Request.Body = body.Length > MaxBody ? new ConcatStream(body, http.Request.Body) : body;
        await next(http).ConfigureAwait(false);
    }

    /// <summary>What is wrong with <paramref name="body"/> as one gRPC frame holding the method's request, or null.</summary>
    private static string? Problem(ReadOnlySpan<byte> body, (string Name, MessageParser Parser) request)
    {
        if (body.Length == 0) return null; // no message at all: gRPC's own answer (the request is missing) stands
        if (body.Length < 5) return $"the body is {body.Length} bytes: not a gRPC message frame (5-byte header)";
        if (body[0] != 0) return null; // compressed: gRPC decides (this agent offers no compression)
        uint length = BinaryPrimitives.ReadUInt32BigEndian(body[1..5]);
        if (length != body.Length - 5)
            return length > body.Length - 5 ? $"the frame says {length} bytes but {body.Length - 5} came" : $"{body.Length - 5 - length} bytes follow the {request.Name} message (a unary rpc takes one)";
        try
        {
            request.Parser.ParseFrom(body[5..]);
            return null;
        }
        catch (InvalidProtocolBufferException e)
        {
            return $"the body is not a valid {request.Name} protobuf: {e.Message}";
        }
    }

    /// <summary>The refusal, in the agent's form: gRPC status 3 and the two trailers (printable ASCII only).</summary>
    private static async Task RefuseAsync(HttpContext http, string problem)
    {
        string detail = new(problem.Where(c => c is >= ' ' and <= '~' and not '%').ToArray());
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/grpc";
        await http.Response.StartAsync(http.RequestAborted).ConfigureAwait(false);
        http.Response.AppendTrailer("grpc-status", ((int)Grpc.Core.StatusCode.InvalidArgument).ToString(System.Globalization.CultureInfo.InvariantCulture));
        http.Response.AppendTrailer("grpc-message", detail);
        http.Response.AppendTrailer("nicscript-status", DpuAgent.StatusName(DpuStatus.InvalidArgument));
        http.Response.AppendTrailer("nicscript-detail", detail);
    }

    /// <summary>The buffered start of a body followed by its unread rest.</summary>
    private sealed class ConcatStream(Stream first, Stream rest) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await first.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            return n > 0 ? n : await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
