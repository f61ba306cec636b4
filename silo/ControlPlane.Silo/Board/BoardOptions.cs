namespace ControlPlane.Silo.Board;

/// <summary><c>ControlPlane:Board:*</c>: the web status board (docs/operability.md, "The web board").</summary>
public sealed class BoardOptions
{
    public const string Section = "ControlPlane:Board";

    /// <summary>Serve the board at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Its own HTTP/1.1 port on the gateway's listen address (a browser cannot speak the gRPC port's cleartext
    /// HTTP/2), with the gateway's TLS when that is on. 0 picks a free port, printed in the banner.
    /// </summary>
    public int Port { get; set; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Port is < 0 or > 65535) errors.Add($"ControlPlane:Board:Port is {Port}; expected 0 (any free port) to 65535.");
        return errors;
    }
}

/// <summary>The port the board actually listens on (known once Kestrel has bound it; 0 when it is off).</summary>
public sealed class BoardEndpoint
{
    public int Port { get; internal set; }

    public string Scheme { get; internal set; } = "http";

    public string Address { get; internal set; } = "127.0.0.1";

    /// <summary>The board's address for a browser, e.g. http://127.0.0.1:7402/board/.</summary>
    public Uri? Url => Port == 0 ? null : new Uri($"{Scheme}://{(Address.Contains(':', StringComparison.Ordinal) ? $"[{Address}]" : Address)}:{Port}/board/");
}
