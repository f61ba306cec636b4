using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace ControlPlane.Silo.Security;

/// <summary>TLS of the gRPC listener: the server certificate, and client certificates checked against our own CA bundle.</summary>
internal static class GatewayTls
{
    public static void Apply(ListenOptions listen, TlsOptions tls)
    {
        if (!tls.Enabled) return;
        var authorities = tls.ClientCertificates == ClientCertificateMode.None ? null : LoadAuthorities(tls.ClientCaFile);
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = LoadServerCertificate(tls),
            ClientCertificateMode = tls.ClientCertificates switch
            {
                ClientCertificateMode.Require => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate,
                ClientCertificateMode.Allow => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate,
                _ => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.NoCertificate,
            },
            // The machine's trust store is the wrong authority for who may run the fleet: only ClientCaFile counts.
            ClientCertificateValidation = authorities is null ? null : (certificate, _, _) => ChainsTo(certificate, authorities),
        });
    }

    internal static X509Certificate2 LoadServerCertificate(TlsOptions tls)
    {
        if (tls.IsPkcs12)
        {
            var password = string.IsNullOrWhiteSpace(tls.PasswordFile) ? null : File.ReadAllText(tls.PasswordFile).TrimEnd('\r', '\n');
            return X509CertificateLoader.LoadPkcs12FromFile(tls.CertificateFile, password);
        }
        return X509Certificate2.CreateFromPemFile(tls.CertificateFile, tls.KeyFile);
    }

    internal static X509Certificate2Collection LoadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(path);
        return authorities;
    }

    internal static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        return chain.Build(certificate);
    }
}
