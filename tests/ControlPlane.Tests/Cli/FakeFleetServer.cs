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

/// <summary>The fake FleetService and BackupService on Kestrel, loopback, a free port, HTTP/2 without TLS (as the silo serves).</summary>
internal sealed class FakeFleetServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeFleetServer(WebApplication app, FakeFleetService service, FakeBackupService backups, string endpoint)
    {
        this.app = app;
        Service = service;
        Backups = backups;
        Endpoint = endpoint;
    }

    public FakeFleetService Service { get; }

    public FakeBackupService Backups { get; }

    public string Endpoint { get; }

    public static async Task<FakeFleetServer> StartAsync(FakeFleetService? service = null, FakeBackupService? backups = null)
    {
        service ??= new FakeFleetService();
        backups ??= new FakeBackupService();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(service);
        builder.Services.AddSingleton(backups);

        var app = builder.Build();
        app.MapGrpcService<FakeFleetService>();
        app.MapGrpcService<FakeBackupService>();
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features
            .GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new FakeFleetServer(app, service, backups, address);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
