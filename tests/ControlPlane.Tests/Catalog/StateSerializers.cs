using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Serialization;

namespace ControlPlane.Tests.Catalog;

/// <summary>
/// The grain state serializer as a silo builds it (Orleans' Serializer with the grains' generated codecs, Orleans'
/// JSON settings for the legacy reader), from a silo host that is built but never started.
/// </summary>
internal static class StateSerializers
{
    private static readonly Lazy<IServiceProvider> Services = new(() =>
    {
        var host = new HostBuilder()
            .UseOrleans(silo => silo.UseLocalhostClustering().Services.AddSerializer(s => s.AddAssembly(typeof(FleetKeys).Assembly)))
            .Build();
        return host.Services;
    });

    public static Serializer Orleans => Services.Value.GetRequiredService<Serializer>();

    public static OrleansJsonSerializerOptions JsonOptions => Services.Value.GetRequiredService<IOptions<OrleansJsonSerializerOptions>>().Value;

    public static LegacyGrainStateReader Legacy => LegacyGrainStateReader.FromOrleansDefaults(JsonOptions);

    public static GrainStateSerializer Current => new(Orleans, Legacy);
}
