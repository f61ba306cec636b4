using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Tests.Cli;

/// <summary>The fake FleetService on Kestrel, loopback, a free port, HTTP/2 without TLS (as the silo serves).</summary>
internal sealed class FakeFleetServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeFleetServer(WebApplication app, FakeFleetService service, string endpoint)
    {
        this.app = app;
        Service = service;
        Endpoint = endpoint;
    }

    public FakeFleetService Service { get; }

    public string Endpoint { get; }

    public static async Task<FakeFleetServer> StartAsync(FakeFleetService? service = null)
    {
        service ??= new FakeFleetService();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(service);

        var app = builder.Build();
        app.MapGrpcService<FakeFleetService>();
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features
            .GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new FakeFleetServer(app, service, address);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
