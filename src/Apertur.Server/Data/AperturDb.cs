using System.Text;
using System.Text.Json;
using Apertur.Server.CloudDrives;
using Apertur.Server.Destinations;
using Apertur.Server.Encryption;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Keys;
using Apertur.Server.Projects;
using Apertur.Server.Sessions;
using Apertur.Server.Uploads;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Apertur.Server.Data;

/// <summary>The one DbContext. The schema itself lives in the versioned SQL scripts under Data/Migrations.</summary>
public sealed class AperturDb(DbContextOptions<AperturDb> options) : DbContext(options)
{
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Destination> Destinations => Set<Destination>();
    public DbSet<Session> Sessions => Set<Session>();
    public DbSet<SessionCount> SessionCounts => Set<SessionCount>();
    public DbSet<SessionCountDelta> SessionCountDeltas => Set<SessionCountDelta>();
    public DbSet<SessionDestination> SessionDestinations => Set<SessionDestination>();
    public DbSet<Image> Images => Set<Image>();
    public DbSet<Deliveries.Delivery> Deliveries => Set<Deliveries.Delivery>();
    public DbSet<Deliveries.DeliveryAttempt> DeliveryAttempts => Set<Deliveries.DeliveryAttempt>();
    public DbSet<EventWebhook> EventWebhooks => Set<EventWebhook>();
    public DbSet<EventLog> EventLogs => Set<EventLog>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<ServerKey> ServerKeys => Set<ServerKey>();
    public DbSet<DataProtectionKeyRow> DataProtectionKeys => Set<DataProtectionKeyRow>();
    public DbSet<Dashboard.Accounts.DashboardUser> DashboardUsers => Set<Dashboard.Accounts.DashboardUser>();
    public DbSet<Dashboard.Accounts.ProjectMember> ProjectMembers => Set<Dashboard.Accounts.ProjectMember>();
    public DbSet<OAuthConnection> OAuthConnections => Set<OAuthConnection>();
    public DbSet<OAuthState> OAuthStates => Set<OAuthState>();
    public DbSet<Stats.DailyUsage> DailyUsage => Set<Stats.DailyUsage>();
    public DbSet<Stats.DestinationDailyUsage> DestinationDailyUsage => Set<Stats.DestinationDailyUsage>();
    public DbSet<Stats.UsageDelta> UsageDeltas => Set<Stats.UsageDelta>();
    public DbSet<Status.Incident> Incidents => Set<Status.Incident>();
    public DbSet<Status.IncidentUpdate> IncidentUpdates => Set<Status.IncidentUpdate>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Project>().ToTable("projects");
        modelBuilder.Entity<ApiKey>().ToTable("api_keys");
        modelBuilder.Entity<Destination>().ToTable("destinations");
        modelBuilder.Entity<Session>(e =>
        {
            // The usage triggers of migration 0014 (docs/performance.md "Usage aggregates") and the count's of 0016: EF Core then
            // writes without RETURNING.
            e.ToTable("sessions", t =>
            {
                t.HasTrigger("usage_session_created");
                t.HasTrigger("session_counted_insert");
                t.HasTrigger("session_counted_delete");
            });
            e.HasMany(s => s.Destinations).WithOne().HasForeignKey(d => d.SessionId);
        });
        modelBuilder.Entity<SessionDestination>(e =>
        {
            e.ToTable("session_destinations");
            e.HasKey(d => new { d.SessionId, d.DestinationId });
        });
        // Relationships are declared so EF orders inserts of one SaveChanges by their foreign keys.
        modelBuilder.Entity<Image>(e =>
        {
            e.ToTable("images", t =>
            {
                t.HasTrigger("usage_image_uploaded");
                t.HasTrigger("usage_image_delivered");
                t.HasTrigger("image_acknowledged");
            });
            e.HasOne<Session>().WithMany().HasForeignKey(i => i.SessionId);
        });
        modelBuilder.Entity<Deliveries.Delivery>(e =>
        {
            e.ToTable("deliveries", t =>
            {
                t.HasTrigger("usage_delivery_inserted");
                t.HasTrigger("usage_delivery_changed");
            });
            e.HasOne<Image>().WithMany().HasForeignKey(d => d.ImageId);
        });
        modelBuilder.Entity<Deliveries.DeliveryAttempt>(e =>
        {
            e.ToTable("delivery_attempts");
            e.HasOne<Deliveries.Delivery>().WithMany().HasForeignKey(a => a.DeliveryId);
        });
        modelBuilder.Entity<EventWebhook>().ToTable("event_webhooks");
        modelBuilder.Entity<EventLog>().ToTable("event_logs");
        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.HasOne<EventWebhook>().WithMany().HasForeignKey(d => d.WebhookId);
            e.HasOne<EventLog>().WithMany().HasForeignKey(d => d.EventLogId);
        });
        modelBuilder.Entity<ServerKey>().ToTable("server_keys");
        modelBuilder.Entity<DataProtectionKeyRow>().ToTable("data_protection_keys");
        modelBuilder.Entity<Dashboard.Accounts.DashboardUser>().ToTable("dashboard_users");
        modelBuilder.Entity<Dashboard.Accounts.ProjectMember>(e =>
        {
            e.ToTable("project_members");
            e.HasKey(m => new { m.ProjectId, m.UserId });
        });
        modelBuilder.Entity<OAuthConnection>(e =>
        {
            e.ToTable("oauth_connections");
            e.HasKey(c => c.DestinationId);
        });
        modelBuilder.Entity<OAuthState>().ToTable("oauth_states");
        modelBuilder.Entity<Stats.DailyUsage>(e =>
        {
            e.ToTable("usage_days");
            e.HasKey(u => new { u.ProjectId, u.Env, u.Day });
        });
        modelBuilder.Entity<Stats.DestinationDailyUsage>(e =>
        {
            e.ToTable("usage_destination_days");
            e.HasKey(u => new { u.ProjectId, u.Env, u.Day, u.DestinationId });
        });
        modelBuilder.Entity<Stats.UsageDelta>().ToTable("usage_deltas");
        modelBuilder.Entity<SessionCount>(e =>
        {
            e.ToTable("session_counts");
            e.HasKey(c => c.ProjectId);
        });
        modelBuilder.Entity<SessionCountDelta>().ToTable("session_count_deltas");
        modelBuilder.Entity<Status.Incident>().ToTable("incidents");
        modelBuilder.Entity<Status.IncidentUpdate>(e =>
        {
            e.ToTable("incident_updates");
            e.HasOne<Status.Incident>().WithMany().HasForeignKey(u => u.IncidentId);
        });

        var isSqlite = Database.IsSqlite();
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(ToSnakeCase(property.Name));
                var type = property.ClrType;
                if (type == typeof(string[]))
                {
                    property.SetValueConverter(JsonArrayConverter);
                    property.SetValueComparer(JsonArrayComparer);
                }
                else if (type == typeof(int[]))
                {
                    property.SetValueConverter(JsonIntArrayConverter);
                    property.SetValueComparer(JsonIntArrayComparer);
                }
                else if (isSqlite && type == typeof(DateTimeOffset))
                {
                    property.SetValueConverter(UnixMillisConverter);
                }
                else if (isSqlite && type == typeof(DateTimeOffset?))
                {
                    property.SetValueConverter(NullableUnixMillisConverter);
                }
            }
        }

        // Encrypted secrets (Hosting/WebhookSecretsAtRest.cs): the properties say so, the columns keep their names.
        modelBuilder.Entity<Project>().Property(p => p.ProtectedWebhookSecret).HasColumnName("webhook_secret");
        modelBuilder.Entity<Project>().Property(p => p.ProtectedPreviousWebhookSecret).HasColumnName("previous_webhook_secret");
        modelBuilder.Entity<EventWebhook>().Property(w => w.ProtectedSecret).HasColumnName("secret");
    }

    internal static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0)
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    private static readonly ValueConverter<string[], string> JsonArrayConverter = new(
        v => JsonSerializer.Serialize(v, (JsonSerializerOptions?)null),
        v => JsonSerializer.Deserialize<string[]>(v, (JsonSerializerOptions?)null) ?? Array.Empty<string>());

    private static readonly ValueComparer<string[]> JsonArrayComparer = new(
        (a, b) => a != null && b != null ? a.SequenceEqual(b) : a == b,
        v => v.Aggregate(0, (h, s) => HashCode.Combine(h, s.GetHashCode(StringComparison.Ordinal))),
        v => v.ToArray());

    private static readonly ValueConverter<int[], string> JsonIntArrayConverter = new(
        v => JsonSerializer.Serialize(v, (JsonSerializerOptions?)null),
        v => JsonSerializer.Deserialize<int[]>(v, (JsonSerializerOptions?)null) ?? Array.Empty<int>());

    private static readonly ValueComparer<int[]> JsonIntArrayComparer = new(
        (a, b) => a != null && b != null ? a.SequenceEqual(b) : a == b,
        v => v.Aggregate(0, HashCode.Combine),
        v => v.ToArray());

    private static readonly ValueConverter<DateTimeOffset, long> UnixMillisConverter = new(
        v => v.ToUnixTimeMilliseconds(),
        v => DateTimeOffset.FromUnixTimeMilliseconds(v));

    private static readonly ValueConverter<DateTimeOffset?, long?> NullableUnixMillisConverter = new(
        v => v.HasValue ? v.Value.ToUnixTimeMilliseconds() : null,
        v => v.HasValue ? DateTimeOffset.FromUnixTimeMilliseconds(v.Value) : null);
}

/// <summary>One ASP.NET Data Protection key ring element, kept in the database so every replica shares it.</summary>
public sealed class DataProtectionKeyRow
{
    public int Id { get; set; }
    public string? FriendlyName { get; set; }
    public required string Xml { get; set; }
}
