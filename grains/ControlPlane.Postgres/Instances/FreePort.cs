using System.Net;
using System.Net.Sockets;

namespace ControlPlane.Postgres.Instances;

/// <summary>Free TCP ports on 127.0.0.1.</summary>
public static class FreePort
{
    // Ports handed out by this process: the kernel may offer a port again before the instance binds it.
    private static readonly HashSet<int> Handed = [];

    /// <summary>A port the kernel reports free now (bind to port 0), not handed out before by this process.</summary>
    public static int Pick()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Handed)
            {
                if (Handed.Add(port)) return port;
            }
        }
        throw new InvalidOperationException("No free loopback TCP port found after 50 attempts.");
    }

    /// <summary>Whether <paramref name="port"/> can be bound on 127.0.0.1 right now.</summary>
    public static bool IsFree(int port)
    {
        if (port is <= 0 or > 65535) return false;
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Keeps <paramref name="remembered"/> when still free, else picks a new one.</summary>
    public static int ReuseOrPick(int? remembered) =>
        remembered is { } p && IsFree(p) ? Remember(p) : Pick();

    private static int Remember(int port)
    {
        lock (Handed) Handed.Add(port);
        return port;
    }
}
