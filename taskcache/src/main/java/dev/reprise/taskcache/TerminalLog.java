package dev.reprise.taskcache;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * A task's stdout and stderr as it wrote them, interleaved in arrival order: frames of
 * {stream byte (1 out, 2 err), length int, bytes}. Replay writes each frame to the same stream.
 */
public final class TerminalLog {

    public static final int OUT = 1;
    public static final int ERR = 2;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream frames = new DataOutputStream(bytes);

    /** Records one chunk. */
    public synchronized void append(int stream, byte[] data, int offset, int length) {
        try {
            frames.writeByte(stream);
            frames.writeInt(length);
            frames.write(data, offset, length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public synchronized byte[] toByteArray() {
        return bytes.toByteArray();
    }

    /** Writes a recorded log back to the terminal, frame by frame. */
    public static void replay(InputStream log, OutputStream out, OutputStream err) throws IOException {
        DataInputStream in = new DataInputStream(log);
        byte[] buffer = new byte[8192];
        while (true) {
            int stream = in.read();
            if (stream < 0) {
                break;
            }
            int length = in.readInt();
            OutputStream target = stream == ERR ? err : out;
            while (length > 0) {
                int n = in.read(buffer, 0, Math.min(buffer.length, length));
                if (n < 0) {
                    throw new IOException("the recorded log ends mid-frame");
                }
                target.write(buffer, 0, n);
                length -= n;
            }
        }
        out.flush();
        err.flush();
    }
}
