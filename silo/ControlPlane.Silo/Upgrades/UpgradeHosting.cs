using ControlPlane.Grains.Upgrades;
using ControlPlane.Postgres.Upgrades;
using ControlPlane.Silo.Hosting;

namespace ControlPlane.Silo.Upgrades;

/// <summary>Wiring of upgrade rehearsals: <c>ControlPlane:Upgrades</c> with its data-directory default, the runner, the keeper of interrupted rehearsals, the gRPC service.</summary>
internal static class UpgradeHosting
{
    public static void AddControlPlaneUpgrades(WebApplicationBuilder builder, string dataDirectory)
    {
        var options = builder.Configuration.GetSection(UpgradeOptions.Section).Get<UpgradeOptions>() ?? new UpgradeOptions();
        ApplyDefaults(options, dataDirectory);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        builder.Services.Configure<UpgradeOptions>(builder.Configuration.GetSection(UpgradeOptions.Section));
        builder.Services.PostConfigure<UpgradeOptions>(o => ApplyDefaults(o, dataDirectory));
        builder.Services.AddSingleton(sp => new UpgradeRehearsalRunner(sp.GetRequiredService<ILogger<UpgradeRehearsalRunner>>()));
        builder.Services.AddHostedService<UpgradeRehearsalKeeper>();
    }

    public static void MapControlPlaneUpgrades(WebApplication app) => app.MapGrpcService<UpgradeGrpcService>();

    private static void ApplyDefaults(UpgradeOptions options, string dataDirectory)
    {
        if (options.ScratchDirectory.Length == 0) options.ScratchDirectory = Path.Combine(dataDirectory, "upgrades");
    }
}
