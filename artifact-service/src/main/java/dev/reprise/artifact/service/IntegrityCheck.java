package dev.reprise.artifact.service;

import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.store.BlobIndex;
import dev.reprise.artifact.store.BlobIndex.Blob;
import dev.reprise.artifact.store.LocalBlobs;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Re-reads blobs from S3 and re-hashes them, least recently verified first. A blob whose bytes no
 * longer match its digest, or whose object is gone, is quarantined: never served again.
 */
@ApplicationScoped
public class IntegrityCheck {

    private static final Logger LOG = Logger.getLogger(IntegrityCheck.class);

    /** One run's result. */
    public record Report(long checked, long corrupt, long missing) {
    }

    private final BlobIndex blobs;
    private final LocalBlobs local;
    private final Cas cas;
    private final ArtifactConfig config;

    public IntegrityCheck(BlobIndex blobs, LocalBlobs local, Cas cas, ArtifactConfig config) {
        this.blobs = blobs;
        this.local = local;
        this.cas = cas;
        this.config = config;
    }

    @Scheduled(every = "${reprise.artifact.integrity-every:1h}", delay = 5, concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        return run(config.integrityBatch())
                .invoke(r -> LOG.infof("Integrity check: %d blobs checked, %d corrupt, %d missing", r.checked(), r.corrupt(), r.missing()))
                .onFailure().invoke(e -> LOG.warnf("Integrity check failed (%s); next run retries", e.toString()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /** Verifies up to {@code batch} blobs. */
    public Uni<Report> run(int batch) {
        AtomicLong checked = new AtomicLong();
        AtomicLong corrupt = new AtomicLong();
        AtomicLong missing = new AtomicLong();
        return blobs.toVerify(batch)
                .chain(blobs -> Multi.createFrom().iterable(blobs)
                        .onItem().transformToUniAndConcatenate(blob -> verify(blob).invoke(verdict -> {
                            checked.incrementAndGet();
                            if (verdict == Cas.Verdict.CORRUPT) {
                                corrupt.incrementAndGet();
                            } else if (verdict == Cas.Verdict.MISSING) {
                                missing.incrementAndGet();
                            }
                        }))
                        .collect().asList())
                .map(ignored -> new Report(checked.get(), corrupt.get(), missing.get()));
    }

    private Uni<Cas.Verdict> verify(Blob blob) {
        Path target = local.newSpoolFile();
        return cas.download(blob.digest(), blob.objectKey(), blob.size(), target)
                .call(verdict -> verdict == Cas.Verdict.INTACT ? blobs.markVerified(blob.digest(), blob.objectKey())
                        : cas.quarantine(blob.digest(), blob.objectKey(), verdict.reason()))
                .eventually(() -> Cas.blocking(() -> LocalBlobs.deleteQuietly(target)));
    }
}
