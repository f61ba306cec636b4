using ControlPlane.Grains.Parity;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Parity;

/// <summary>Wiring of schema parity: its options (<c>ControlPlane:Parity</c>, validated at start) and the keeper of the scheduled drift checks.</summary>
internal static class ParityHosting
{
    public static void AddControlPlaneParity(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ParityOptions.Section).Get<ParityOptions>() ?? new ParityOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        builder.Services.Configure<ParityOptions>(builder.Configuration.GetSection(ParityOptions.Section));
        builder.Services.AddHostedService<ParityKeeper>();
    }

    public static void MapControlPlaneParity(this WebApplication app) => app.MapGrpcService<ParityGrpcService>();
}

/// <summary>Keeps every tier's parity grain active so its scheduled drift check runs; nothing when the schedule is off.</summary>
internal sealed class ParityKeeper(IClusterClient cluster, IOptions<ControlPlaneOptions> options, IOptions<ParityOptions> parity, ILogger<ParityKeeper> logger)
    : TierGrainKeeper(cluster, options.Value.Environment, logger)
{
    protected override bool Enabled => parity.Value.Interval > TimeSpan.Zero;

    protected override Task EnsureAsync(IClusterClient cluster, string tierKey) => cluster.GetGrain<IParityGrain>(tierKey).Ensure();
}
