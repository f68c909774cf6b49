using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NicScript.Driver.VfioUser;

/// <summary>A connected Unix stream socket that carries file descriptors with its bytes (<c>SCM_RIGHTS</c>), as vfio-user
/// passes guest-memory fds and eventfds.</summary>
/// <remarks>
/// Design: blocking reads of an exact length through <c>recvmsg</c>, each with room for one descriptor more than
/// <see cref="MaxFds"/>, so a sender that passes more is told apart (and anything beyond the buffer is refused with
/// <c>MSG_CTRUNC</c>, the kernel closing what did not fit). Every descriptor that arrives is owned at once by a
/// <see cref="SafeFileHandle"/>: whoever refuses the message disposes them, nothing leaks. A read waits in <c>poll</c> when
/// the socket is non-blocking underneath; <see cref="Shutdown"/> from another thread ends a waiting read with end-of-stream.
/// </remarks>
internal sealed unsafe class UnixMessageSocket : IDisposable
{
    /// <summary>The most descriptors one message may carry (the <c>max_msg_fds</c> the server announces).</summary>
    public const int MaxFds = 16;

    private readonly Socket _socket;
    private readonly byte[] _control = new byte[Libc.CmsgSpace(MaxFds + 1)];

    public UnixMessageSocket(Socket socket) => _socket = socket;

    private int Fd => (int)_socket.SafeHandle.DangerousGetHandle();

    /// <summary>Fills <paramref name="buffer"/> from the stream; descriptors that come with the bytes are added to
    /// <paramref name="fds"/> (also when the read fails).</summary>
    public SocketReceive Receive(Span<byte> buffer, List<SafeFileHandle> fds)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            nint n;
            Libc.MsgHdr m;
            fixed (byte* b = buffer, c = _control)
            {
                var iov = new Libc.IoVec { Base = b + got, Length = (nuint)(buffer.Length - got) };
                m = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = c, ControlLength = (nuint)_control.Length };
                n = Libc.recvmsg(Fd, &m, Libc.MsgCmsgCloexec);
                if (n >= 0) Collect(c, (int)m.ControlLength, fds);
            }
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.Eintr) continue;
                if (errno == Libc.Eagain && Wait(Libc.PollIn)) continue;
                return SocketReceive.Failed;
            }
            if ((m.Flags & Libc.MsgCtrunc) != 0 || fds.Count > MaxFds) return SocketReceive.TooManyFds;
            if (n == 0) return got == 0 ? SocketReceive.Closed : SocketReceive.Truncated;
            got += (int)n;
        }
        return SocketReceive.Complete;
    }

    /// <summary>Sends all of <paramref name="bytes"/> (a message: never empty), with <paramref name="fds"/> attached to the first
    /// byte; false when the peer is gone.</summary>
    public bool Send(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> fds = default)
    {
        if (fds.Length > MaxFds) throw new ArgumentOutOfRangeException(nameof(fds), $"at most {MaxFds} descriptors");
        int sent = 0;
        Span<byte> control = stackalloc byte[Libc.CmsgSpace(MaxFds)];
        while (sent < bytes.Length)
        {
            nint n;
            fixed (byte* b = bytes, c = control)
            {
                var iov = new Libc.IoVec { Base = b + sent, Length = (nuint)(bytes.Length - sent) };
                var m = new Libc.MsgHdr { Iov = &iov, IovLength = 1 };
                if (sent == 0 && fds.Length > 0)
                {
                    *(nuint*)c = (nuint)(Libc.CmsgHeader + fds.Length * sizeof(int));
                    *(int*)(c + 8) = Libc.SolSocket;
                    *(int*)(c + 12) = Libc.ScmRights;
                    for (int i = 0; i < fds.Length; i++) ((int*)(c + Libc.CmsgHeader))[i] = fds[i];
                    m.Control = c;
                    m.ControlLength = (nuint)Libc.CmsgSpace(fds.Length);
                }
                n = Libc.sendmsg(Fd, &m, Libc.MsgNoSignal);
            }
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.Eintr) continue;
                if (errno == Libc.Eagain && Wait(Libc.PollOut)) continue;
                return false;
            }
            sent += (int)n;
        }
        return true;
    }

    /// <summary>Ends the stream both ways: a read waiting on another thread returns <see cref="SocketReceive.Closed"/>.</summary>
    public void Shutdown()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already closed: nothing waits on it
        }
    }

    public void Dispose() => _socket.Dispose();

    private bool Wait(short events)
    {
        var p = new Libc.PollFd { Fd = Fd, Events = events };
        int r;
        do r = Libc.poll(&p, 1, -1); while (r < 0 && Marshal.GetLastPInvokeError() == Libc.Eintr);
        return r > 0;
    }

    /// <summary>Takes ownership of every descriptor in the control messages at <paramref name="control"/>.</summary>
    private static void Collect(byte* control, int length, List<SafeFileHandle> fds)
    {
        for (int at = 0; at + Libc.CmsgHeader <= length;)
        {
            int len = (int)Math.Min(*(nuint*)(control + at), (nuint)int.MaxValue);
            if (len < Libc.CmsgHeader || at + len > length) return;
            if (*(int*)(control + at + 8) == Libc.SolSocket && *(int*)(control + at + 12) == Libc.ScmRights)
                for (int i = 0; i < (len - Libc.CmsgHeader) / sizeof(int); i++)
                    fds.Add(new SafeFileHandle(((int*)(control + at + Libc.CmsgHeader))[i], ownsHandle: true));
            at += (len + 7) & ~7;
        }
    }
}
