using ControlPlane.Grains.Capacity;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Capacity;

/// <summary>Wiring of capacity planning: its options (<c>ControlPlane:Capacity</c>, validated at start) and the keeper of the scheduled samples.</summary>
internal static class CapacityHosting
{
    public static void AddControlPlaneCapacity(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(CapacityOptions.Section).Get<CapacityOptions>() ?? new CapacityOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        builder.Services.Configure<CapacityOptions>(builder.Configuration.GetSection(CapacityOptions.Section));
        builder.Services.AddHostedService<CapacityKeeper>();
    }

    public static void MapControlPlaneCapacity(this WebApplication app) => app.MapGrpcService<CapacityGrpcService>();
}

/// <summary>Keeps every tier's capacity grain active so its scheduled sampling runs; nothing when the schedule is off.</summary>
internal sealed class CapacityKeeper(IClusterClient cluster, IOptions<ControlPlaneOptions> options, IOptions<CapacityOptions> capacity, ILogger<CapacityKeeper> logger)
    : TierGrainKeeper(cluster, options.Value.Environment, logger)
{
    protected override bool Enabled => capacity.Value.Interval > TimeSpan.Zero;

    protected override Task EnsureAsync(IClusterClient cluster, string tierKey) => cluster.GetGrain<ICapacityGrain>(tierKey).Ensure();
}
