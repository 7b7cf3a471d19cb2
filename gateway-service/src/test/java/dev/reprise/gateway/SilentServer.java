package dev.reprise.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP server that accepts connections and never says a word: a remote that hangs git (TLS or
 * ssh waits for the server's first bytes). Tells which connections were made and whether the
 * client side has gone since.
 */
public final class SilentServer implements AutoCloseable {

    private final ServerSocket server;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    /** Listens on {@code address} (any 127.x.y.z works on Linux), on a free port. */
    public SilentServer(String address) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(address), 0), 64);
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    accepted.add(server.accept());
                } catch (IOException e) {
                    return;
                }
            }
        }, "silent-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public int connections() {
        return accepted.size();
    }

    /** Waits until at least {@code n} connections were accepted; false if not within {@code timeout}. */
    public boolean awaitConnections(int n, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (accepted.size() < n) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Whether every client has closed its side (its process is gone) within {@code timeout}. */
    public boolean allClosedWithin(Duration timeout) throws IOException {
        long end = System.nanoTime() + timeout.toNanos();
        for (Socket socket : accepted) {
            long left = Math.max(1, (end - System.nanoTime()) / 1_000_000);
            socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
            try {
                InputStream in = socket.getInputStream();
                while (in.read() != -1) {
                    // a client's hello; the end of the stream is what counts
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                // reset: closed as well
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : accepted) {
            socket.close();
        }
    }
}
