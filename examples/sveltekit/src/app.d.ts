/// <reference types="@vidspec/vite/client" />
