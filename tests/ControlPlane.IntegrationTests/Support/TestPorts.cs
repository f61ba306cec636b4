using System.Net;
using System.Net.Sockets;

namespace ControlPlane.IntegrationTests.Support;

/// <summary>
/// Ports a test hands to a silo it starts (gRPC, metrics, silo-to-silo). They come from below the kernel's ephemeral
/// range: a port the kernel offers for bind(0) (every postgres instance a silo starts, Orleans' gateway) or for an
/// outgoing connection can then never be one a test chose and released a moment before, which made a child silo's
/// gateway fail to bind now and then. Within this process, a port is handed out once.
/// </summary>
public static class TestPorts
{
    private const int Low = 20000;
    private const int High = 32000; // below ip_local_port_range's usual start (32768)
    private static readonly Lock Gate = new();
    private static int _next = Low + Random.Shared.Next(High - Low);

    /// <summary>A loopback port outside the ephemeral range that nothing listens on now.</summary>
    public static int Reserve()
    {
        lock (Gate)
        {
            for (var tried = 0; tried < High - Low; tried++)
            {
                var port = _next;
                _next = _next + 1 >= High ? Low : _next + 1;
                if (IsFree(port)) return port;
            }
        }
        throw new InvalidOperationException($"no free loopback port between {Low} and {High}");
    }

    private static bool IsFree(int port)
    {
        using var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
