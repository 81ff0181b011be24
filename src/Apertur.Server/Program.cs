using Apertur.Server.Backup;
using Apertur.Server.CloudDrives;
using Apertur.Server.Dashboard;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Destinations;
using Apertur.Server.Encryption;
using Apertur.Server.Events;
using Apertur.Server.Health;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Home;
using Apertur.Server.Hosting;
using Apertur.Server.Images;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
using Apertur.Server.Polling;
using Apertur.Server.Projects;
using Apertur.Server.Qr;
using Apertur.Server.Retention;
using Apertur.Server.Sessions;
using Apertur.Server.Stats;
using Apertur.Server.Status;
using Apertur.Server.Storage;
using Apertur.Server.Telemetry;
using Apertur.Server.UploadPage;
using Apertur.Server.Uploads;

// Table of contents: one Add… per feature (its settings, checked at start-up, and its services), one Map… per API.

// `--help` prints the commands and the most used settings instead of starting.
if (CommandLine.WantsHelp(args))
{
    Console.WriteLine(CommandLine.Help(CommandLine.Self(Environment.CurrentDirectory, "").TrimEnd()));
    return 0;
}

// A bad setting stops the start with one line on standard error, never a stack trace.
Startup.ReportBadSettingsInOneLine();

var builder = WebApplication.CreateBuilder(CommandLine.BuilderOptions(args));
// `--lan`: every interface, with this machine's network address in upload links and QR codes (docs/deploy.md).
CommandLine.ApplyLan(args, builder.Configuration);

// The data directory is the server's alone (0700, files 0600, umask 077 on Unix), before anything is written in it.
builder.SecureDataDirectory();

// Time, server-wide settings, public URLs, rate limits and one JSON error shape for every failure.
builder.Services.AddAperturHosting();
// Memory: once the process goes quiet after a burst, one collection gives the burst's memory back (Apertur:IdleCollection).
builder.Services.AddIdleCollection();
// Persistence: SQLite by default, PostgreSQL by setting; schema from versioned SQL scripts.
builder.Services.AddAperturData(builder.Configuration);
// Secrets at rest: Data Protection with its key ring in the database, itself encrypted under the master key.
builder.Services.AddSecretsAtRest();
// Outbound: every connection passes the SSRF guard; destination adapters registered by kind.
builder.Services.AddOutbound(builder.Configuration);
// Behind a reverse proxy: client address, scheme and host from X-Forwarded-* of trusted proxies only (docs/deploy.md).
builder.Services.AddReverseProxy();

// API keys: authentication of requests, issuing, and what the API and the dashboard share.
builder.Services.AddKeys();
// The tenant: its webhook signing secrets (24 h overlap after a rotation), name and notification e-mail.
builder.Services.AddProjects();
// Destinations: credentials protected at rest and masked in answers; create, change, delete, test.
builder.Services.AddDestinations();
// Upload sessions: defaults and caps, creation, detail, changes.
builder.Services.AddSessions();
// Session events: the in-process hub the SSE streams and long-polls wait on.
builder.Services.AddSessionEvents();
// The server's RSA key for client-side encrypted uploads.
builder.Services.AddEncryption();
// Pull delivery and delivery status with its long-poll.
builder.Services.AddPolling();
// Usage counts, live and test apart.
builder.Services.AddStats();
// Image bytes: a local directory by default, behind IImageStore.
builder.Services.AddImageStorage(builder.Configuration);
// Metrics and traces (OpenTelemetry): /metrics when Apertur:Metrics:Enabled, OTLP when OTEL_EXPORTER_OTLP_*ENDPOINT names a collector.
builder.Services.AddTelemetry(builder.Configuration);
// Readiness checks (database, image store) for /healthz/ready.
builder.Services.AddHealth();
// The public status page: component states from live figures (cached), incidents posted by an admin in the dashboard.
builder.Services.AddStatus();
// Uploads: stream to a temp file, check the bytes, commit image + deliveries in one transaction; the uploads history.
builder.Services.AddUploads();
// The operators' dashboard: Razor Pages under /dashboard with their own cookie sign-in, separate from the API's keys.
builder.Services.AddDashboard(builder.Configuration);
// The upload page people open from the QR code: a Razor Page with its script and styles served from the assembly.
builder.Services.AddUploadPage();
// Image processing (Apertur:Images): per-destination options applied to deliveries, bounded and off the upload path.
builder.Services.AddImages();
// Thumbnails of stored images for the dashboard and the upload page, made once and kept on this replica's disk.
builder.Services.AddThumbnails(builder.Configuration);
// QR codes of upload pages: PNG and SVG drawn here, JPEG through the image library.
builder.Services.AddQrCodes();
// Delivery: the worker drains the outbox through the adapters, retries on schedule, emails final failures.
builder.Services.AddDelivery();
// Event webhooks: the outbox writer, the signed sender and its worker, CRUD, the session-expiry sweep.
builder.Services.AddEventWebhooks();
// Image bytes deleted after their retention (Apertur:Retention), by a periodic sweep.
builder.Services.AddRetention();
// The API reference: the OpenAPI document generated from the /api/v1 routes, and its interactive page.
builder.Services.AddApiReference();
// `keys create` prints only the key on standard output: its logs (a master key generated on a first use) go to standard error.
builder.AddKeysCommand(args);

var app = builder.Build();

// Every setting checked before anything is written or printed.
Startup.ValidateSettings(app.Services);

// `keys create …` prints a key and exits without serving.
if (KeysCommand.Matches(args))
{
    return await KeysCommand.RunAsync(args, app.Services);
}

// `storage migrate` copies the local images into the S3 bucket of the settings, verified, and exits without serving.
if (StorageCommand.Matches(args))
{
    return await StorageCommand.RunAsync(args, app.Services);
}

// `backup <dir>` copies the database (one consistent state), its images and the master key while a server serves, and exits.
if (BackupCommand.Matches(args))
{
    return await BackupCommand.RunAsync(args, app.Services);
}

// `restore <dir>` copies a backup into the empty data directory of a stopped server, and exits.
if (RestoreCommand.Matches(args))
{
    return await RestoreCommand.RunAsync(args, app.Services);
}

// Migrate and seed before listening: /healthz answering means the database is ready. A database that cannot be used
// stops the start with one line on standard error and exit code 1.
if (!await Startup.TryPrepareAsync(app.Services, app.Lifetime.ApplicationStopping))
{
    return 1;
}

// Listening on every interface: print the address a phone on this network opens.
CommandLine.AnnounceNetworkAddress(app);

// Forwarded headers first, from trusted proxies only, so everything after sees the client.
app.UseReverseProxy();
// One JSON error shape for exceptions and bare status codes.
app.UseApiErrors();

// GET /metrics for Prometheus when Apertur:Metrics:Enabled, from Apertur:Metrics:AllowedNetworks only when set; 404 otherwise.
app.UseMetricsEndpoint();
// GET /: where the dashboard, health check and docs are.
app.MapHomePage();
// GET /openapi/v1.json (OpenAPI 3.1, the /api/v1 routes) and /docs (interactive reference, assets served locally).
app.MapApiReference();
// GET /healthz, /healthz/live and /healthz/ready (database and image store checked).
app.MapHealth();
// GET /status and /status.json: public component states and incidents of the last 90 days.
app.MapStatusPage();
// Upload sessions: create, read, change, password check, list.
app.MapSessionsApi();
// QR codes of a session's upload page, PNG or SVG, public by session UUID.
app.MapQrApi();
// Pull delivery for long-polling sessions: list queued images, download, acknowledge.
app.MapPollingApi();
// Delivery status per file and destination; `pollFrom` long-polls until something changes.
app.MapDeliveryStatusApi();
// Live session events over SSE, public by session UUID.
app.MapEventsApi();
// Public image upload (plain and encrypted), uploads history and download.
app.MapUploadsApi();
// The server's public key for client-side encrypted uploads.
app.MapEncryptionApi();
// The key's project: name, notification e-mail, webhook secret and its rotation.
app.MapProjectApi();
// Destinations of the project: CRUD with secrets encrypted at rest and masked, plus the connection test.
app.MapDestinationsApi();
// Cloud drive destinations: connect an account with OAuth (start, provider callback, status, disconnect).
app.MapOAuthApi();
// API keys of the project, and a key's default destinations.
app.MapKeysApi();
// Usage counts of the project, live data only.
app.MapStatsApi();
// Image deliveries: list, attempt log, manual retry.
app.MapDeliveriesApi();
// Signed, expiring image links for receivers (event_json download_url), public by signature.
app.MapDownloadLinksApi();
// Event webhooks of a project: subscriptions, test send, deliveries log and manual retry.
app.MapEventWebhooksApi();
// The hosted upload page /u/{uuid} (README, "The upload page") and its assets.
app.MapUploadPage();
// The dashboard's pages, assets and image thumbnails.
app.MapDashboard();
// Every Razor Page, once: the upload page (UploadPage/) and the dashboard (Dashboard/), each with an absolute @page route.
app.MapRazorPages();

await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
