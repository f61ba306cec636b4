using System.Net;
using System.Net.Sockets;

namespace ControlPlane.Bench.Common;

/// <summary>Free TCP ports on 127.0.0.1, for the processes a benchmark starts.</summary>
public static class LoopbackPorts
{
    /// <summary>A port nobody listens on right now (the usual small race with other processes applies).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
