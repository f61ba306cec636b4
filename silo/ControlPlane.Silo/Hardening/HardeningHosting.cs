using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Hardening;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Hardening;

/// <summary>Wiring of the hardening audit: its policy (<c>ControlPlane:Hardening</c>) and the keeper of the scheduled audits.</summary>
internal static class HardeningHosting
{
    /// <summary>The one exception the embedded fleet knowingly accepts (docs/hardening.md, "Accepted exceptions").</summary>
    public const string LocalRepositoryReason =
        "the embedded fleet's backup repository is a plain directory under the silo's data directory on the developer's " +
        "own disk; a production deployment points ControlPlane:Backups at encrypted storage and sets BackupRepositoryEncrypted";

    public static void AddControlPlaneHardening(this WebApplicationBuilder builder)
    {
        var errors = Read(builder.Configuration).Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        builder.Services.Configure<HardeningExpectations>(builder.Configuration.GetSection(HardeningExpectations.Section));
        builder.Services.PostConfigure<HardeningExpectations>(o => ApplyDefaults(o, builder.Configuration));
        builder.Services.AddHostedService<HardeningKeeper>();
        builder.Services.AddSingleton<CatalogSecurityAudit>();
    }

    public static HardeningExpectations Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(HardeningExpectations.Section).Get<HardeningExpectations>() ?? new HardeningExpectations();
        ApplyDefaults(options, configuration);
        return options;
    }

    /// <summary>
    /// With the embedded default backup repository (none configured) and no declaration either way, CP-BAK-01 is an
    /// accepted exception with its reason: the local fleet then passes its own audit without pretending its
    /// repository is encrypted. Any configured repository gets no such allowance.
    /// </summary>
    private static void ApplyDefaults(HardeningExpectations options, IConfiguration configuration)
    {
        var embeddedRepository = string.IsNullOrEmpty(configuration[$"{BackupOptions.Section}:DefaultPolicy:Repository"]);
        if (embeddedRepository && !options.BackupRepositoryEncrypted)
            options.AcceptedExceptions.TryAdd("CP-BAK-01", LocalRepositoryReason);
    }
}

/// <summary>Keeps every tier's hardening grain active so its scheduled audit runs; nothing when the schedule is off.</summary>
internal sealed class HardeningKeeper(IClusterClient cluster, IOptions<ControlPlaneOptions> options, IOptions<HardeningExpectations> hardening, ILogger<HardeningKeeper> logger)
    : TierGrainKeeper(cluster, options.Value.Environment, logger)
{
    protected override bool Enabled => hardening.Value.Interval > TimeSpan.Zero;

    protected override Task EnsureAsync(IClusterClient cluster, string tierKey) => cluster.GetGrain<IHardeningGrain>(tierKey).Ensure();
}
