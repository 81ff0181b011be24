using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Apertur.Server.Hosting;

/// <summary>
/// The command line besides settings: <c>--help</c>, <c>--lan</c> (serve the local network with the address a phone
/// reaches, docs/deploy.md "Try it from your phone"), and how to write this very program's commands in what it prints.
/// </summary>
public static class CommandLine
{
    public const string LanFlag = "--lan";
    private const int DefaultPort = 5080;

    public static bool WantsHelp(string[] args) => args.Any(a => a is "--help" or "-h" or "-?" or "help");

    /// <summary>
    /// The host's options: the settings arguments, and the content root where <c>appsettings.json</c> is. That is the
    /// working directory under <c>dotnet run</c> (the project folder), else the program's own folder: a published build
    /// started from another directory (a shell elsewhere, a service manager) still reads the settings shipped with it.
    /// </summary>
    public static WebApplicationOptions BuilderOptions(string[] args) => new()
    {
        Args = SettingsArguments(args),
        ContentRootPath = File.Exists(Path.Combine(Environment.CurrentDirectory, "appsettings.json")) ? null : AppContext.BaseDirectory,
    };

    /// <summary>The arguments without the flags handled here (the settings parser would read <c>--lan</c> as a key).</summary>
    public static string[] SettingsArguments(string[] args) => args.Where(a => a != LanFlag).ToArray();

    public static string Help(string self) => $"""
        Apertur: photo collection and delivery server.

        Usage:
          {self} [--lan] [settings]               run the server
          {self} keys create --project <name> [--create-project] [--test] [--label <text>]
                                                  print a new API key and exit
          {self} storage migrate                  copy the local images into the S3 bucket of Apertur:Storage:S3:*, verified
          {self} backup <directory>               copy the database, images and master key into a new directory, while
                                                  the server runs (SQLite and local images; docs/operations.md)
          {self} restore <directory>              copy a backup into the empty data directory of a stopped server
          {self} --help                           this text

        --lan  serves the local network on port {DefaultPort} (or the port of --urls) and writes this machine's network
               address into upload links and QR codes, so a phone on the same Wi-Fi can open them.

        Settings: --Name=value, environment variables (Apertur__Name, '__' for ':') or appsettings.json. The most used:
          --urls=http://localhost:{DefaultPort}              where to listen (several: separate with ';')
          --Apertur:PublicBaseUrl=https://photos.example.com   the public origin of upload links, QR codes, download links
          --Apertur:DataDirectory=data                        database (SQLite), images and master key
          --Apertur:Database:Provider=Postgres                and --Apertur:Database:ConnectionString="Host=…;Database=…"
          --Apertur:ReverseProxy:TrustedProxies:0=127.0.0.1   believe X-Forwarded-* from this proxy
          --Apertur:Bootstrap:AdminPassword=…                 the first dashboard admin's password
          --Kestrel:Endpoints:Https:Url=https://0.0.0.0:443   with :Certificate:Path=… and :Certificate:KeyPath=… (PEM)

        Every setting, HTTPS, proxies and running as a service: docs/deploy.md and README.md. Stop the server with Ctrl+C
        (or SIGTERM): uploads in flight finish first.
        """;

    /// <summary>
    /// With <c>--lan</c>: listen on every interface (the port of the configured URL, 5080 by default) and, unless
    /// <c>Apertur:PublicBaseUrl</c> is set, make this machine's network address the public origin. Null without the flag
    /// or when the machine has no network address (then only loopback would work, and the caller says so).
    /// </summary>
    public static LanAddress? ApplyLan(string[] args, IConfigurationManager configuration)
    {
        if (!args.Contains(LanFlag))
        {
            return null;
        }
        var port = PortOf(configuration["Urls"]);
        configuration["Urls"] = $"http://0.0.0.0:{port}";
        if (NetworkAddress() is not { } address)
        {
            return new LanAddress(null, port);
        }
        if (string.IsNullOrWhiteSpace(configuration[$"{AperturOptions.Section}:{nameof(AperturOptions.PublicBaseUrl)}"]))
        {
            configuration[$"{AperturOptions.Section}:{nameof(AperturOptions.PublicBaseUrl)}"] = $"http://{address}:{port}";
        }
        return new LanAddress(address, port);
    }

    /// <summary>
    /// This machine's address on the local network: IPv4, up, not loopback or link-local, preferring an interface with a
    /// default gateway (the Wi-Fi or Ethernet a phone shares, rather than a container bridge).
    /// </summary>
    public static IPAddress? NetworkAddress()
    {
        var candidates = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n =>
            {
                var properties = n.GetIPProperties();
                var routed = properties.GatewayAddresses.Any(g => !g.Address.Equals(IPAddress.Any));
                return properties.UnicastAddresses
                    .Where(u => u.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(u.Address)
                        && !u.Address.ToString().StartsWith("169.254.", StringComparison.Ordinal))
                    .Select(u => (u.Address, routed));
            })
            .ToList();
        return candidates.OrderByDescending(c => c.routed).Select(c => c.Address).FirstOrDefault();
    }

    /// <summary>
    /// How to run this program's <paramref name="arguments"/> the way it was started: <c>dotnet run --project …</c> from a
    /// source checkout (as README.md writes it, from the repository's root; <c>dotnet run</c> runs in the project folder),
    /// <c>dotnet Apertur.Server.dll</c>, or the published executable's path.
    /// </summary>
    public static string Self(string contentRoot, string arguments)
    {
        if (File.Exists(Path.Combine(contentRoot, "Apertur.Server.csproj")))
        {
            return $"dotnet run --project src/Apertur.Server -- {arguments}";
        }
        var process = Environment.ProcessPath ?? "Apertur.Server";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? $"dotnet {Path.Combine(AppContext.BaseDirectory, "Apertur.Server.dll")} {arguments}"
            : $"{process} {arguments}";
    }

    /// <summary>
    /// Once the server listens: when it listens on every interface, prints the address a phone on this network opens, and
    /// which origin upload links and QR codes carry.
    /// </summary>
    public static void AnnounceNetworkAddress(WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
                .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
            var everywhere = addresses.Select(a => PublicUrls.WithWildcardHostAs(a, "0.0.0.0"))
                .Select(a => Uri.TryCreate(a, UriKind.Absolute, out var uri) ? uri : null)
                .FirstOrDefault(u => u is not null && u.Host == "0.0.0.0");
            if (everywhere is null)
            {
                return;
            }
            var console = app.Services.GetRequiredService<StartupOutput>();
            var configured = app.Configuration[$"{AperturOptions.Section}:{nameof(AperturOptions.PublicBaseUrl)}"];
            if (NetworkAddress() is not { } address)
            {
                console.Announce("Apertur listens on every interface, but this machine has no network address a phone could reach.");
                return;
            }
            var origin = $"{everywhere.Scheme}://{address}:{everywhere.Port}";
            console.Announce($"""

                 Apertur on this network: {origin}/dashboard
                 {(string.IsNullOrWhiteSpace(configured)
                     ? $"Upload links and QR codes carry the address each request came to: open the dashboard at {origin}, not localhost."
                     : $"Upload links and QR codes carry {configured.TrimEnd('/')} (Apertur:PublicBaseUrl).")}

                """);
        });
    }

    private static int PortOf(string? urls)
    {
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is not null && Uri.TryCreate(PublicUrls.WithWildcardHostAs(first, "localhost"), UriKind.Absolute, out var uri) && uri.Port > 0)
        {
            return uri.Port;
        }
        return DefaultPort;
    }
}

/// <summary>What <c>--lan</c> chose: the network address (null when the machine has none) and the port.</summary>
public sealed record LanAddress(IPAddress? Address, int Port)
{
    public string? Origin => Address is null ? null : $"http://{Address}:{Port}";
}
