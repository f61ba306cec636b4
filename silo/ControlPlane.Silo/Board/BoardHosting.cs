using System.Net;
using ControlPlane.Silo.Hosting;
using ControlPlane.Silo.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ControlPlane.Silo.Board;

/// <summary>
/// Wiring of the web status board: its own HTTP/1.1 listener (the gRPC port stays HTTP/2 only, which a browser
/// cannot speak in cleartext), its services, and its endpoints under /board, answered on that listener only.
/// </summary>
internal static class BoardHosting
{
    public static void AddControlPlaneBoard(this WebApplicationBuilder builder, ControlPlaneOptions options)
    {
        var board = builder.Configuration.GetSection(BoardOptions.Section).Get<BoardOptions>() ?? new BoardOptions();
        var errors = board.Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        var endpoint = new BoardEndpoint { Scheme = options.Tls.Enabled ? "https" : "http", Address = options.ListenAddress };
        builder.Services.AddSingleton(endpoint);
        if (!board.Enabled) return;

        ListenOptions? listener = null;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(options.ListenAddress), board.Port, l =>
        {
            l.Protocols = HttpProtocols.Http1;
            // Tokens cross this port: it gets the gateway's TLS whenever the gateway has it.
            GatewayTls.Apply(l, options.Tls);
            listener = l;
        }));
        builder.Services.AddSingleton<BoardData>();
        builder.Services.AddSingleton<BoardAccess>();
        builder.Services.AddSingleton<BoardEvents>();
        builder.Services.AddSingleton(BoardAssets.Load());
        // Kestrel writes the bound port back into the listen options when it binds (port 0 included).
        builder.Services.AddHostedService(sp => new BoardPortReader(sp.GetRequiredService<IHostApplicationLifetime>(), endpoint, () => listener));
    }

    public static void MapControlPlaneBoard(this WebApplication app)
    {
        if (app.Services.GetService<BoardData>() is null) return;
        BoardEndpoints.Map(app);
    }

    /// <summary>The banner's board line.</summary>
    public static string Banner(IServiceProvider services) =>
        services.GetRequiredService<BoardEndpoint>().Url is { } url
            ? $"  web board    : {url} (sign in with a token; docs/operability.md)"
            : "  web board    : off (ControlPlane:Board:Enabled=false)";

    private sealed class BoardPortReader(IHostApplicationLifetime lifetime, BoardEndpoint endpoint, Func<ListenOptions?> listener) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStarted.Register(() => endpoint.Port = listener()?.IPEndPoint?.Port ?? 0);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
