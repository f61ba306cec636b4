using ControlPlane.IntegrationTests.Support;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>A second, fleet-less silo serving TLS that requires client certificates from a throwaway CA.</summary>
public sealed class TlsSiloFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-tls-" + Guid.NewGuid().ToString("N")[..8]);

    public RunningSilo Silo { get; private set; } = null!;
    public int GrpcPort { get; } = TestPorts.Reserve();
    public X509Certificate2 Authority { get; private set; } = null!;
    public X509Certificate2 ClientCertificate { get; private set; } = null!;
    public X509Certificate2 StrangerCertificate { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=controlplane-test-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Authority = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        var server = Issue("CN=localhost", Authority, serverAuth: true);
        ClientCertificate = Issue("CN=ops-client", Authority, serverAuth: false);
        using var strangerKey = RSA.Create(2048);
        var strangerCa = new CertificateRequest("CN=stranger-ca", strangerKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        strangerCa.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var stranger = strangerCa.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        StrangerCertificate = Issue("CN=ops-client", stranger, serverAuth: false);

        var certFile = Path.Combine(_root, "server.pem");
        var keyFile = Path.Combine(_root, "server.key");
        var caFile = Path.Combine(_root, "clients-ca.pem");
        await File.WriteAllTextAsync(certFile, server.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, server.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(caFile, Authority.ExportCertificatePem());

        Silo = await ControlPlaneHost.StartAsync(
            ["--data-dir", Path.Combine(_root, "data"), "--grpc-port", GrpcPort.ToString(), "--metrics-port", "0", "--fleet", "none"],
            configure: c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ControlPlane:Tls:CertificateFile"] = certFile,
                ["ControlPlane:Tls:KeyFile"] = keyFile,
                ["ControlPlane:Tls:ClientCertificates"] = "Require",
                ["ControlPlane:Tls:ClientCaFile"] = caFile,
                ["ControlPlane:Tls:ClientPrincipals:0:Subject"] = "CN=ops-client",
                ["ControlPlane:Tls:ClientPrincipals:0:Principal"] = "ops",
                ["ControlPlane:Tls:ClientPrincipals:0:Role"] = "operator",
            }),
            new StringWriter(), CancellationToken.None);
    }

    public GrpcChannel Channel(X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler();
        if (clientCertificate is not null) handler.SslOptions.ClientCertificates = [clientCertificate];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is X509Certificate2 c && ControlPlane.Silo.Security.GatewayTls.ChainsTo(c, [Authority]);
        return GrpcChannel.ForAddress($"https://localhost:{GrpcPort}", new GrpcChannelOptions { HttpHandler = handler });
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null) await Silo.DisposeAsync();
        TestDirectory.DeleteQuietly(_root);
    }

    private static X509Certificate2 Issue(string subject, X509Certificate2 issuer, bool serverAuth)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        using var signed = request.Create(issuer, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        return signed.CopyWithPrivateKey(key);
    }
}

[Trait("Category", "Postgres")]
public sealed class TlsTests(TlsSiloFixture fixture) : IClassFixture<TlsSiloFixture>
{
    [Fact]
    public async Task A_client_without_a_certificate_is_refused()
    {
        using var channel = fixture.Channel(clientCertificate: null);
        var client = new SecurityService.SecurityServiceClient(channel);
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => client.WhoAmIAsync(new WhoAmIRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
        Assert.IsNotType<Xunit.Sdk.XunitException>(ex);
    }

    [Fact]
    public async Task A_certificate_from_another_authority_is_refused()
    {
        using var channel = fixture.Channel(fixture.StrangerCertificate);
        var client = new SecurityService.SecurityServiceClient(channel);
        await Assert.ThrowsAnyAsync<Exception>(() => client.WhoAmIAsync(new WhoAmIRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
    }

    [Fact]
    public async Task A_mapped_client_certificate_is_its_principal_without_any_token()
    {
        using var channel = fixture.Channel(fixture.ClientCertificate);
        var me = await new SecurityService.SecurityServiceClient(channel).WhoAmIAsync(new WhoAmIRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Equal("ops", me.Principal);
        Assert.Equal("certificate", me.Kind);
        Assert.Equal(Role.Operator, me.Role);
    }
}
