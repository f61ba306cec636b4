using ControlPlane.Grains.Security;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ControlPlane.Silo.Security;

/// <summary>Wiring of authentication, authorization, audit and TLS; the interceptor itself is added in AddControlPlaneGateway.</summary>
internal static class SecurityHosting
{
    public static void AddControlPlaneSecurity(this WebApplicationBuilder builder, string catalogConnectionString)
    {
        PermissionTable table;
        try
        {
            table = PermissionTable.ForControlPlane();
        }
        catch (InvalidOperationException ex)
        {
            throw new ControlPlaneConfigurationException(ex.Message);
        }
        builder.Services.AddSingleton(table);
        builder.Services.Configure<SecurityOptions>(builder.Configuration.GetSection($"{ControlPlaneOptions.Section}:Security"));
        builder.Services.Configure<TlsOptions>(builder.Configuration.GetSection($"{ControlPlaneOptions.Section}:Tls"));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => new SecurityCatalog(catalogConnectionString));
        builder.Services.AddSingleton<TokenCache>();
        builder.Services.AddSingleton<TokenStore>();
        builder.Services.AddHostedService<TokenInvalidationListener>();
        builder.Services.AddSingleton<CatalogAuditLog>();
        builder.Services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<CatalogAuditLog>());
        builder.Services.AddSingleton<Authenticator>();
        builder.Services.AddSingleton<StreamLimiter>();
        builder.Services.AddSingleton<RevocableStreams>();
        builder.Services.AddSingleton<SecurityInterceptor>();
        builder.Services.AddHostedService<AdminTokenBootstrap>();
    }

    /// <summary>The banner's security lines: loud when authentication is off.</summary>
    public static string Banner(ControlPlaneOptions options)
    {
        var tls = options.Tls.Enabled ? $"TLS, client certificates {options.Tls.ClientCertificates}" : "plaintext (loopback)";
        if (options.Security.InsecureNoAuth)
        {
            return $"""
                  security     : {tls}
                  !!!!!!!!!!!!!! AUTHENTICATION IS OFF (--insecure-no-auth): anyone who reaches the gateway is an admin !!!!!!!!!!!!!!
                """.TrimEnd();
        }
        var file = AdminTokenBootstrap.PathIn(options.DataDirectory);
        return $"  security     : {tls}; bearer tokens required{(File.Exists(file) ? $"; admin token in {file}" : "")}";
    }
}
