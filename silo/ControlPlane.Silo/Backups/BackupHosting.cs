using ControlPlane.Grains.Backups;
using ControlPlane.Silo.Hosting;

namespace ControlPlane.Silo.Backups;

/// <summary>Wiring of the backup capability: options with their data-directory defaults, metrics and the local engine.</summary>
internal static class BackupHosting
{
    /// <summary>Reads <c>ControlPlane:Backups</c>, fills the defaults that depend on the data directory, validates.</summary>
    public static BackupOptions ReadOptions(IConfiguration configuration, string dataDirectory)
    {
        var options = configuration.GetSection(BackupOptions.Section).Get<BackupOptions>() ?? new BackupOptions();
        ApplyDefaults(options, dataDirectory, configuration);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        return options;
    }

    public static void AddControlPlaneBackups(this WebApplicationBuilder builder, string dataDirectory)
    {
        ReadOptions(builder.Configuration, dataDirectory);
        builder.Services.Configure<BackupOptions>(builder.Configuration.GetSection(BackupOptions.Section));
        builder.Services.PostConfigure<BackupOptions>(o => ApplyDefaults(o, dataDirectory, builder.Configuration));
        builder.Services.AddSingleton<BackupMetrics>();
        builder.Services.AddSingleton<IBackupEngine, LocalBackupEngine>();
    }

    private static void ApplyDefaults(BackupOptions options, string dataDirectory, IConfiguration configuration)
    {
        if (options.DefaultPolicy.Repository.Length == 0)
            options.DefaultPolicy = options.DefaultPolicy with { Repository = Path.Combine(dataDirectory, "backups") };
        if (options.RestoreDirectory.Length == 0) options.RestoreDirectory = Path.Combine(dataDirectory, "restores");
        // Each tier's section overrides only the fields it sets: bound onto a copy of the default policy.
        options.TierPolicies.Clear();
        foreach (var tier in configuration.GetSection($"{BackupOptions.Section}:Tiers").GetChildren())
        {
            var policy = options.DefaultPolicy with { };
            tier.Bind(policy);
            options.TierPolicies[tier.Key] = policy;
        }
    }
}
